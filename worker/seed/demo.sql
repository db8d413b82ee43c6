-- Demo client rows for `npm run dev`, as a pool's client table would hold
-- them (start times relative to when the seed runs):
-- - two JDCs still named 'jd-client/sv2', alpha and beta: the demo reports
--   (scripts/demo-reports.mjs) rename these;
-- - a third JDC, silent, that never reports: the inspector's Agents
--   panel lists it as connected through a JDC but not reporting;
-- - ordinary SV1 miners that connect to the pool directly;
-- - ended sessions (deletedAt set), which no view counts.
DELETE FROM clients;
INSERT INTO clients (address, clientName, sessionId, userAgent, startTime, bestDifficulty, hashRate, deletedAt) VALUES
  ('bc1qdemojdc0000000000000000000000000000alpha', 'jdc1', 'a1b2c3d4', 'jd-client/sv2', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-3 hours'), 1523000, 4.2e12, NULL),
  ('bc1qdemojdc0000000000000000000000000000alpha', 'jdc1', 'a1b2c3d5', 'jd-client/sv2', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 hours', '-55 minutes'), 88000, 1.1e12, NULL),
  ('bc1qdemojdc00000000000000000000000000000beta', 'rack7', 'b7c8d9e0', 'jd-client/sv2', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-26 hours'), 9100000, 1.2e15, NULL),
  ('bc1qdemojdc000000000000000000000000000silent', 'garage', 'd1e2f3a4', 'jd-client/sv2', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-4 days', '-6 hours'), 310000, 6.0e12, NULL),
  ('bc1qdemojdc000000000000000000000000000silent', 'garage', 'd1e2f3a5', 'jd-client/sv2', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-40 minutes'), 12000, 2.5e12, NULL),
  ('bc1qdemominer000000000000000000000000000gamma', 'desk', 'c0ffee01', 'bitaxe/1.0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-5 hours'), 42000, 5.0e11, NULL),
  ('bc1qdemominer000000000000000000000000000gamma', 'shelf', 'c0ffee02', 'bitaxe/1.0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-5 hours'), 39000, 4.8e11, NULL),
  ('bc1qdemominer0000000000000000000000000000kilo', 's19', 'k1l0c0de', 'bmminer/2.0.0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-9 days'), 2400000, 9.5e13, NULL),
  ('bc1qdemominer0000000000000000000000000000kilo', 's19b', 'k1l0c0df', 'bmminer/2.0.0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-9 days'), 2100000, 9.5e13, NULL),
  ('bc1qdemominer0000000000000000000000000000lima', 'usb', 'l1m4f00d', 'cgminer/4.11.1', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-30 minutes'), 900, 3.0e11, NULL),
  ('bc1qdemojdc0000000000000000000000000000alpha', 'jdc1', '0ld5e551', 'jd-client/sv2', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 days'), 7000, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-20 hours')),
  ('bc1qdemominer0000000000000000000000000000lima', 'usb', 'l1m4dead', 'cgminer/4.11.1', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 days'), 700, 3.0e11, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 days'));
