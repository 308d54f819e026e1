DROP VIEW translated;
