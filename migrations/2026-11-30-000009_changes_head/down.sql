DROP TABLE changes_head;
