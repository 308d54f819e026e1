ALTER TABLE observations DROP COLUMN created_by, DROP COLUMN partner;
DROP TABLE api_tokens;
DROP TRIGGER impact_metrics_partner_metrics ON impact_metrics;
DROP FUNCTION seesac_partner_metrics();
DROP TABLE partners;
