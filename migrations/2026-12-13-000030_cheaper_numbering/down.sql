ALTER FUNCTION seesac_number_changes(boolean) RESET enable_bitmapscan;
DROP TRIGGER changes_append_only ON changes;
CREATE TRIGGER changes_append_only BEFORE UPDATE ON changes
    FOR EACH ROW EXECUTE FUNCTION seesac_changes_append_only();
DROP FUNCTION seesac_guard_changes();
