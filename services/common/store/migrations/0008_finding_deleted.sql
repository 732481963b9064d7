-- A content detection's "deleted" mark (found in a copy a later layer deleted or replaced) was
-- carried by the Finding on the bus but not stored, so the read API always showed it false.

ALTER TABLE findings ADD COLUMN deleted boolean NOT NULL DEFAULT false;
