-- The pool's client table: one row per mining connection (session). A JDC's
-- connections arrive as userAgent 'jd-client/sv2' and are renamed by reports.
CREATE TABLE IF NOT EXISTS clients (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    address        TEXT    NOT NULL,           -- payout address (username before the first '.')
    clientName     TEXT    NOT NULL DEFAULT '',-- worker name (after the first '.')
    sessionId      TEXT    NOT NULL,
    userAgent      TEXT    NOT NULL DEFAULT '',
    startTime      TEXT    NOT NULL,           -- RFC 3339
    bestDifficulty REAL    NOT NULL DEFAULT 0,
    hashRate       REAL    NOT NULL DEFAULT 0, -- H/s
    createdAt      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updatedAt      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    deletedAt      TEXT                        -- set when the session ends
);

-- The rename touches only live rows of one address still named
-- 'jd-client/sv2': this partial index finds exactly those, so the UPDATE
-- reads what it writes and nothing else, however large the table grows.
CREATE INDEX IF NOT EXISTS clients_live_address_user_agent
    ON clients (address, userAgent)
    WHERE deletedAt IS NULL;

-- Sessions are looked up by id when shares arrive.
CREATE INDEX IF NOT EXISTS clients_session ON clients (sessionId);
