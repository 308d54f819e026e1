-- The function of 000015 is what this one replaces; revert 000015 with it.
SELECT 1;
