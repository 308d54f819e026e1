DROP FUNCTION seesac_search_config(text);
