-- Import links on numbers that are on no bridge cannot survive the old rule.
UPDATE phone_numbers SET provider_config_id = NULL WHERE bridge_id IS NULL;
ALTER TABLE phone_numbers
    ADD CONSTRAINT phone_numbers_check CHECK (provider_config_id IS NULL OR bridge_id IS NOT NULL);
