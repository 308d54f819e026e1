DROP TABLE contacts;
DROP TABLE council_decisions;
DROP TABLE funders;
DROP TABLE observations;
DROP TABLE impact_metrics;
