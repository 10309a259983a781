-- The command an SSH user is still typing (as the terminal echoed it) is stored as it grows
-- (pending = 1), so a gateway that is killed loses at most a second of it; the finished command
-- replaces it.
ALTER TABLE session_commands ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
