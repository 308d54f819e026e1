DROP TABLE webhook_outbox;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
