DROP TABLE pages;
DROP TABLE users;
DROP FUNCTION seesac_versioning();
