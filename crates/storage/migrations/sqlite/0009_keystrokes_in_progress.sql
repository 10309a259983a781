-- The keystroke line a user is still typing is stored as it grows (pending = 1), so a gateway
-- that is killed loses at most a second of it; a finished line replaces it.
ALTER TABLE session_keystrokes ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
