-- SSH targets (issue 8): private-key credentials, the pinned host key, and the command log of
-- SSH sessions (DESIGN §7: "commands of SSH sessions are kept as searchable logs").

-- The private key (OpenSSH or PEM text), sealed with the server key and the target id as
-- associated data, like sealed_password.
ALTER TABLE targets ADD COLUMN sealed_private_key BLOB;
-- The host key pinned at registration, as an OpenSSH public-key line ("ssh-ed25519 AAAA…").
-- A session whose server presents another key is refused until an administrator accepts it.
ALTER TABLE targets ADD COLUMN host_key TEXT;

CREATE TABLE session_commands (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES remote_sessions(id),
    at_ms       INTEGER NOT NULL,
    command     TEXT NOT NULL
);
CREATE INDEX session_commands_session ON session_commands(session_id, at_ms);
