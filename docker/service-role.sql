-- The role seesac-api runs as in docker-compose.yml: it logs in and, once the
-- service has migrated as `seesac`, may read and write rows and nothing more.
-- Change the password together with SEESAC_APP_DB_PASSWORD.
CREATE ROLE seesac_app LOGIN PASSWORD 'seesac_app';
