DROP FUNCTION seesac_translations_of(text, uuid, text[], boolean);
