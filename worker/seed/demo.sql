-- Demo client rows for `npm run dev`: two JDCs still named 'jd-client/sv2'
-- (reports from them rename these), a plain SV1 miner, and an ended session.
DELETE FROM clients;
INSERT INTO clients (address, clientName, sessionId, userAgent, startTime, bestDifficulty, hashRate, deletedAt) VALUES
  ('bc1qdemojdc0000000000000000000000000000alpha', 'jdc1', 'a1b2c3d4', 'jd-client/sv2', '2026-11-26T00:00:00.000Z', 1523000, 4.2e12, NULL),
  ('bc1qdemojdc0000000000000000000000000000alpha', 'jdc1', 'a1b2c3d5', 'jd-client/sv2', '2026-11-26T00:05:00.000Z', 88000, 1.1e12, NULL),
  ('bc1qdemojdc00000000000000000000000000000beta', 'rack7', 'b7c8d9e0', 'jd-client/sv2', '2026-11-26T00:10:00.000Z', 9100000, 1.2e15, NULL),
  ('bc1qdemominer000000000000000000000000000gamma', 'desk', 'c0ffee01', 'bitaxe/1.0', '2026-11-26T00:20:00.000Z', 42000, 5.0e11, NULL),
  ('bc1qdemojdc0000000000000000000000000000alpha', 'jdc1', '0ld5e551', 'jd-client/sv2', '2026-11-25T20:00:00.000Z', 7000, 0, '2026-11-25T23:00:00.000Z');
