-- Session review (issue 7). The keystroke log of graphical sessions (DESIGN §7): lines of typed
-- text with special keys named, searchable across sessions ("which session typed shutdown?").
CREATE TABLE session_keystrokes (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES remote_sessions(id) ON DELETE CASCADE,
    at_ms       INTEGER NOT NULL,
    text        TEXT NOT NULL
);
CREATE INDEX session_keystrokes_session ON session_keystrokes(session_id, at_ms);

-- Small pictures of a graphical session at its recording's keyframes, for the player's time
-- line.
CREATE TABLE recording_thumbnails (
    session_id  TEXT NOT NULL REFERENCES remote_sessions(id) ON DELETE CASCADE,
    at_ms       INTEGER NOT NULL,
    mimetype    TEXT NOT NULL,
    image       BLOB NOT NULL,
    PRIMARY KEY (session_id, at_ms)
);
