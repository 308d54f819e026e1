DROP TABLE changes_schedule;
DROP TABLE changes_horizon;
DROP TABLE changes;
