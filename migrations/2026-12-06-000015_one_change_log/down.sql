-- The history that this migration folded into the change log cannot be unfolded:
-- restore the backup taken before upgrading instead.
DO $$
BEGIN
    RAISE EXCEPTION 'migration 000015 (one change log) cannot be reverted: restore a backup';
END;
$$;
