-- The area whose newest figure is a metric's headline (`latest`): a partner adding a
-- national figure does not replace the regional one the site shows.
ALTER TABLE impact_metrics
    ADD COLUMN headline_area text CHECK (headline_area ~ '^[A-Z]{2,4}$');

-- Existing metrics: the area of their regional figures.
UPDATE impact_metrics m SET headline_area = (
    SELECT o.area FROM observations o
    WHERE o.metric = m.key AND o.area IN ('WB', 'SEE', 'SEEE', 'EU')
    ORDER BY o.period_end DESC NULLS LAST, o.area
    LIMIT 1);
