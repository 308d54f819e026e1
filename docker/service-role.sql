-- The role seesac-api runs as in docker-compose.yml: it logs in and, once the
-- service has migrated as `seesac`, may read and write rows and nothing more.
-- Change the password here and in docker-compose.yml's DATABASE_URL together.
CREATE ROLE seesac_app LOGIN PASSWORD 'seesac_app';
