-- RDP targets (issue 4): the keyboard layout the server is told (us or jis) and the security
-- the gateway accepts (any, tls or nla). The server certificate's SHA-256 is pinned in
-- host_key, the column that holds each target's pinned server identity.
ALTER TABLE targets ADD COLUMN keyboard TEXT NOT NULL DEFAULT 'us';
ALTER TABLE targets ADD COLUMN rdp_security TEXT NOT NULL DEFAULT 'any';
