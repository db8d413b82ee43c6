-- The pool's device view (GET /api/agents) groups the live rows by userAgent
-- and lists the addresses of the live 'jd-client/sv2' rows. This partial
-- index serves both: the GROUP BY walks it in userAgent order (no sort), and
-- the 'jd-client/sv2' rows are one range of it, so listing them reads those
-- rows and nothing else. It costs one more row written when a session
-- starts and when a report renames a row; hashRate and bestDifficulty
-- updates do not touch it.
CREATE INDEX IF NOT EXISTS clients_live_user_agent
    ON clients (userAgent, address, startTime)
    WHERE deletedAt IS NULL;
