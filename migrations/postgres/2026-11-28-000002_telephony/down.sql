DROP TABLE provider_configurations;
DROP TABLE telephony_providers;
