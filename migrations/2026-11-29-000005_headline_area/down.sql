ALTER TABLE impact_metrics DROP COLUMN headline_area;
