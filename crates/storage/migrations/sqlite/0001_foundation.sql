-- Foundation: users and their matrix credentials, registration codes, challenges, browser
-- sessions and the audit chain. Times are Unix seconds unless the column says _ms.

CREATE TABLE vendors (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id                    INTEGER PRIMARY KEY,
    login                 TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    role                  TEXT NOT NULL CHECK (role IN ('admin', 'approver', 'auditor', 'vendor')),
    vendor_id             INTEGER REFERENCES vendors(id),
    admin_locked          INTEGER NOT NULL DEFAULT 0,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    lockouts              INTEGER NOT NULL DEFAULT 0,
    locked_until          INTEGER,
    created_at            INTEGER NOT NULL
);

-- The pattern and insertion position are sealed with the server key (user id as associated
-- data); the fixed password is an Argon2id PHC string.
CREATE TABLE credentials (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    sealed      BLOB NOT NULL,
    fixed_hash  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Only the SHA-256 of a code is kept; the code itself is printed once.
CREATE TABLE registration_codes (
    code_hash   BLOB PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE TABLE challenges (
    id           TEXT PRIMARY KEY,
    user_id      INTEGER REFERENCES users(id) ON DELETE CASCADE,
    login        TEXT NOT NULL,
    matrix       TEXT NOT NULL,
    source       TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    consumed_at  INTEGER
);
CREATE INDEX challenges_expiry ON challenges(expires_at);

-- Only the SHA-256 of a session token is kept.
CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    source       TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY,
    at_ms      INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT,
    subject    TEXT,
    source     TEXT,
    detail     TEXT NOT NULL,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL
);
CREATE INDEX audit_subject ON audit_events(subject, kind);
