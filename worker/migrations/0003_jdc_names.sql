-- Named from the first second. Each reporting JDC's name (the userAgent its
-- live reports derive) and until when it holds (its report's TTL), one row
-- per jdcUserIdentity. The Worker writes a row only when a JDC's name
-- changes or its row nears its end (at most one D1 call every third report
-- at a 60 s cadence), and deletes it when the JDC's report names nothing.
-- The triggers below read it when the pool writes a live 'jd-client/sv2'
-- row, so the row is named as it is born, with no report needed.
--
-- Several JDCs of one address (identities 'address' and 'address.rig2')
-- each keep their own row, so two JDCs with different majority vendors never
-- overwrite each other. A row born at that address takes the name of the
-- live entry whose identity sorts first.
--
-- Trigger form: remote migrations split this file into statements and are
-- known to cut trigger bodies. So each trigger here is created only if it
-- does not exist, keeps its condition in WHEN, and its body is one UPDATE
-- between the two keywords in capitals, with no comment and no conditional
-- expression inside, and LF line ends.
-- tests/tests/triggers.rs checks every migration for this form.
--
-- The key leads with the address, and the table is stored in key order
-- (WITHOUT ROWID): the triggers read the entries of one address as one
-- range of the table itself, and no other index has to be written when an
-- entry is renewed.
CREATE TABLE IF NOT EXISTS jdc_names (
    address   TEXT NOT NULL, -- the identity's address (before its first '.')
    identity  TEXT NOT NULL, -- jdcUserIdentity
    userAgent TEXT NOT NULL, -- what its rows are named
    expiresAt TEXT NOT NULL, -- RFC 3339, UTC, milliseconds
    PRIMARY KEY (address, identity)
) WITHOUT ROWID;

-- A pool inserts a live 'jd-client/sv2' row (a JDC's new session): named at
-- once while a report's entry for its address is live. Other rows cost no
-- read: the WHEN stops at their userAgent.
CREATE TRIGGER IF NOT EXISTS clients_named_on_insert
AFTER INSERT ON clients
FOR EACH ROW
WHEN NEW.userAgent = 'jd-client/sv2'
    AND NEW.deletedAt IS NULL
    AND EXISTS (SELECT 1 FROM jdc_names WHERE address = NEW.address AND expiresAt > strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
BEGIN
    UPDATE clients SET userAgent = (SELECT userAgent FROM jdc_names WHERE address = NEW.address AND expiresAt > strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ORDER BY identity LIMIT 1) WHERE id = NEW.id;
END;

-- A pool writes 'jd-client/sv2' over a live row again, e.g. its upsert of a
-- session that registers again (INSERT ... ON CONFLICT (address,
-- clientName, sessionId) DO UPDATE SET userAgent = EXCLUDED.userAgent):
-- named again at once. Updates that leave userAgent out of their SET
-- (hash rates, deletedAt) do not fire it.
CREATE TRIGGER IF NOT EXISTS clients_named_on_update
AFTER UPDATE OF userAgent ON clients
FOR EACH ROW
WHEN NEW.userAgent = 'jd-client/sv2'
    AND NEW.deletedAt IS NULL
    AND EXISTS (SELECT 1 FROM jdc_names WHERE address = NEW.address AND expiresAt > strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
BEGIN
    UPDATE clients SET userAgent = (SELECT userAgent FROM jdc_names WHERE address = NEW.address AND expiresAt > strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ORDER BY identity LIMIT 1) WHERE id = NEW.id;
END;
