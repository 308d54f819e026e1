DROP TRIGGER changes_numbered ON changes;
DROP FUNCTION changes_number();
DROP SEQUENCE changes_pending;
