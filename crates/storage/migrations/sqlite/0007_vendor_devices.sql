-- Lent devices in the application flow, and a posture policy per vendor (DESIGN §6, issue 6).

-- A vendor's own values for some [posture.policy] rules (JSON of hoshu_domain::PolicyOverride);
-- NULL follows the global policy. The access decision evaluates reports with it, so a change
-- re-checks live sessions at once.
ALTER TABLE vendors ADD COLUMN posture_policy TEXT;
CREATE TRIGGER access_vendor_posture AFTER UPDATE OF posture_policy ON vendors
    BEGIN UPDATE access_generation SET value = value + 1; END;

-- lent_devices (0004) recorded asset tags alone, before the device registry (0006) existed.
-- Lending is now registering a device for one of the vendor's users, so nothing writes that
-- table any more; its rows cannot become devices (they name no holder and no lending period)
-- and stay as the record of what was lent before, still counted by the "devices lent" step so
-- that a vendor already past it is not held back.
