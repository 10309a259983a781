-- Targets (servers vendors maintain) and remote sessions on them (DESIGN §5, §7).

CREATE TABLE targets (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    protocol           TEXT NOT NULL CHECK (protocol IN ('vnc', 'rdp', 'ssh')),
    host               TEXT NOT NULL,
    port               INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    username           TEXT,
    -- The password, sealed with the server key and the target id as associated data.
    sealed_password    BLOB,
    system             TEXT,
    clipboard          TEXT NOT NULL DEFAULT 'off' CHECK (clipboard IN ('off', 'paste-in', 'both')),
    standing_access    INTEGER NOT NULL DEFAULT 0,
    idle_timeout_secs  INTEGER NOT NULL DEFAULT 900,
    max_duration_secs  INTEGER NOT NULL DEFAULT 28800,
    created_at         INTEGER NOT NULL
);

CREATE TABLE remote_sessions (
    id                TEXT PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users(id),
    target_id         INTEGER REFERENCES targets(id) ON DELETE SET NULL,
    target_name       TEXT NOT NULL,
    protocol          TEXT NOT NULL,
    started_at_ms     INTEGER NOT NULL,
    ended_at_ms       INTEGER,
    outcome           TEXT,
    bytes_to_browser  INTEGER NOT NULL DEFAULT 0,
    recording         TEXT,
    recording_sha256  TEXT
);
CREATE INDEX remote_sessions_started ON remote_sessions(started_at_ms);
