-- Lent devices and their posture (DESIGN §6, issue 6).

-- The device CA: one row, made on first use. Its private key (PKCS#8 PEM) is sealed with the
-- server key like target passwords, so a copied database alone cannot issue certificates.
CREATE TABLE device_ca (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    certificate_pem  TEXT NOT NULL,
    sealed_key       BLOB NOT NULL,
    created_at       INTEGER NOT NULL
);

-- A terminal lent to one user for a period. The certificate columns are filled at enrolment;
-- the report columns by each posture report.
CREATE TABLE devices (
    id              INTEGER PRIMARY KEY,
    asset_tag       TEXT NOT NULL UNIQUE,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    lent_from       INTEGER NOT NULL,
    lent_until      INTEGER NOT NULL,
    fingerprint     TEXT,
    cert_serial     TEXT UNIQUE,
    cert_pem        TEXT,
    enrolled_at     INTEGER,
    revoked_at      INTEGER,
    last_report     TEXT,
    last_report_at  INTEGER,
    compliant       INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX devices_user ON devices(user_id);

-- One-time enrolment codes, kept as SHA-256 like registration codes.
CREATE TABLE device_enrolment_codes (
    code_hash   BLOB PRIMARY KEY,
    device_id   INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

-- The access decision reads devices (DESIGN §5), so a revocation or a change of compliance
-- re-checks live sessions at once. Not on every report: freshness is re-checked by the
-- periodic sweep, and a bump per report would re-check every session every minute per device.
CREATE TRIGGER access_devices_insert AFTER INSERT ON devices
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_devices_update
    AFTER UPDATE OF user_id, lent_until, revoked_at, compliant, cert_serial ON devices
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_devices_delete AFTER DELETE ON devices
    BEGIN UPDATE access_generation SET value = value + 1; END;
