-- The access model of DESIGN §5: the vendor life cycle, systems, contracts, work requests,
-- emergency stops and portal notifications. Dates of contracts are calendar days
-- (YYYY-MM-DD, the organisation's time zone); other times are Unix seconds.

-- Where the vendor's application stands (domain::ApplicationState) and its hearing sheet
-- (JSON: contacts, systems, tools, protocols, frequency).
ALTER TABLE vendors ADD COLUMN application_state TEXT NOT NULL DEFAULT 'hearing-sheet';
ALTER TABLE vendors ADD COLUMN hearing_sheet TEXT NOT NULL DEFAULT '{}';

-- A demo user (seed §6) may open demo targets only, until this time.
ALTER TABLE users ADD COLUMN demo_until INTEGER;

-- A vendor user who manages the company's account: sees all its sessions, logs and recordings.
ALTER TABLE users ADD COLUMN vendor_manager INTEGER NOT NULL DEFAULT 0;

-- A target for demo users: nothing behind it to protect.
ALTER TABLE targets ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;

CREATE TABLE systems (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);
INSERT INTO systems (name, created_at)
    SELECT DISTINCT system, strftime('%s', 'now') FROM targets WHERE system IS NOT NULL;

-- Every move of an application, for the vendor page's timeline (the audit chain has it too).
CREATE TABLE application_events (
    id          INTEGER PRIMARY KEY,
    vendor_id   INTEGER NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX application_events_vendor ON application_events(vendor_id, id);

CREATE TABLE contracts (
    id           INTEGER PRIMARY KEY,
    vendor_id    INTEGER NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    valid_from   TEXT NOT NULL,
    valid_until  TEXT NOT NULL CHECK (valid_until >= valid_from),
    created_at   INTEGER NOT NULL
);
CREATE INDEX contracts_vendor ON contracts(vendor_id);

CREATE TABLE contract_systems (
    contract_id  INTEGER NOT NULL REFERENCES contracts(id) ON DELETE CASCADE,
    system       TEXT NOT NULL REFERENCES systems(name) ON UPDATE CASCADE,
    PRIMARY KEY (contract_id, system)
);

-- Files attached to an application (formal application) or a contract; the content is kept
-- here so a backup of the database holds them too (size limited by the gateway).
CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    vendor_id     INTEGER NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    contract_id   INTEGER REFERENCES contracts(id) ON DELETE CASCADE,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    content       BLOB NOT NULL,
    uploaded_by   TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX documents_vendor ON documents(vendor_id);

-- Terminals lent to a vendor (asset tags) until device enrolment (DESIGN §6) replaces them.
CREATE TABLE lent_devices (
    vendor_id   INTEGER NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    asset_tag   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (vendor_id, asset_tag)
);

CREATE TABLE work_requests (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL CHECK (ends_at > starts_at),
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'approved', 'rejected', 'revoked', 'withdrawn')),
    decided_by  TEXT,
    decided_at  INTEGER,
    comment     TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX work_requests_user ON work_requests(user_id, state);

CREATE TABLE work_request_targets (
    request_id  INTEGER NOT NULL REFERENCES work_requests(id) ON DELETE CASCADE,
    target_id   INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
    PRIMARY KEY (request_id, target_id)
);

-- Emergency stops (seed §5 緊急停止). subject_id is the vendor, target or user id; NULL for all.
CREATE TABLE locks (
    id            INTEGER PRIMARY KEY,
    scope         TEXT NOT NULL CHECK (scope IN ('all', 'vendor', 'target', 'user')),
    subject_id    INTEGER,
    subject_name  TEXT,
    reason        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    lifted_by     TEXT,
    lifted_at     INTEGER,
    CHECK ((scope = 'all') = (subject_id IS NULL))
);
CREATE INDEX locks_active ON locks(lifted_at);

-- Messages on a user's portal (a work request decided, …); rendered in the reader's language
-- from kind and subject.
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    subject_id  INTEGER,
    note        TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    read_at     INTEGER
);
CREATE INDEX notifications_user ON notifications(user_id, read_at);

-- Bumped by every change an access decision depends on. The gateway polls it (one row) and
-- re-checks its live sessions at once when it moves, also when the change came from the admin
-- command line in another process. Triggers keep it honest: no code path can forget.
CREATE TABLE access_generation (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  INTEGER NOT NULL
);
INSERT INTO access_generation (id, value) VALUES (1, 0);

CREATE TRIGGER access_locks_insert AFTER INSERT ON locks
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_locks_update AFTER UPDATE ON locks
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_contracts_insert AFTER INSERT ON contracts
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_contracts_update AFTER UPDATE ON contracts
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_contracts_delete AFTER DELETE ON contracts
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_contract_systems_insert AFTER INSERT ON contract_systems
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_contract_systems_delete AFTER DELETE ON contract_systems
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_vendor_state AFTER UPDATE OF application_state ON vendors
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_work_requests AFTER UPDATE OF state, starts_at, ends_at ON work_requests
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_users_update
    AFTER UPDATE OF admin_locked, locked_until, demo_until, role, vendor_id ON users
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_users_delete AFTER DELETE ON users
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_targets_update
    AFTER UPDATE OF system, demo, standing_access ON targets
    BEGIN UPDATE access_generation SET value = value + 1; END;
CREATE TRIGGER access_targets_delete AFTER DELETE ON targets
    BEGIN UPDATE access_generation SET value = value + 1; END;
