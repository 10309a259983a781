-- Failed answers from a connection presenting the user's own lent device's certificate are
-- counted apart (DESIGN §4 abuse): an outsider's failures lock out logins without the device,
-- not the person holding it.
ALTER TABLE users ADD COLUMN device_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN device_lockouts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN device_locked_until INTEGER;
