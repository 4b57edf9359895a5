DROP TABLE credential_rotations;
DROP TABLE credential_versions;
