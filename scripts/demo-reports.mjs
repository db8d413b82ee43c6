// Posts demo reports to a running Worker (default http://127.0.0.1:8787)
// once it answers, and again every 60 s like real JDCs, so the inspector has
// live data: two JDCs (alpha, beta) whose seeded jd-client/sv2 rows get
// renamed. The third seeded JDC (silent) is left out on purpose: it is the
// one the inspector's Agents panel lists as never reporting.
// usage: node scripts/demo-reports.mjs [BASE_URL]
const base = process.argv[2] ?? "http://127.0.0.1:8787";
const url = `${base}/api/downstream-report`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const alpha = "bc1qdemojdc0000000000000000000000000000alpha";
const beta = "bc1qdemojdc00000000000000000000000000000beta";
const connectedAt = new Date(Date.now() - 2 * 3600 * 1000).toISOString();
const miner = (vendor, hardwareVersion, firmware, nominalHashRate, userIdentity) => ({
  vendor, hardwareVersion, firmware, deviceId: "", nominalHashRate, userIdentity, connectedAt,
});
const reports = () => [
  {
    schemaVersion: 1,
    jdcUserIdentity: `${alpha}.jdc1`,
    timestamp: new Date().toISOString(),
    miners: [
      miner("bitaxe", "BM1370", "v2.4.1", 1.2e12, `${alpha}.gamma1`),
      miner("bitaxe", "BM1368", "v2.4.1", 7.0e11, `${alpha}.supra`),
      miner("NerdQAxe++", "BM1370", "v1.0.30", 4.8e12, `${alpha}.nerd`),
    ],
  },
  {
    schemaVersion: 1,
    jdcUserIdentity: `${beta}.rack7`,
    timestamp: new Date().toISOString(),
    miners: [
      miner("Braiins OS", "S19j", "BOS 24.09", 1.04e14, `${beta}.s19a`),
      miner("Braiins OS", "S19j", "BOS 24.09", 1.04e14, `${beta}.s19b`),
      miner("VNish", "S21", "1.2.6", 2.0e14, `${beta}.s21`),
    ],
  },
];

for (let tries = 0; ; tries++) {
  try {
    await fetch(url);
    break;
  } catch (error) {
    if (tries >= 120) throw new Error(`no Worker answered at ${url}: ${error}`);
    await sleep(1000);
  }
}
for (;;) {
  for (const report of reports()) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(report),
    }).catch((error) => ({ status: `unreachable (${error})`, text: async () => "" }));
    console.log(`demo report ${report.jdcUserIdentity}: ${response.status} ${await response.text()}`);
  }
  await sleep(60_000);
}
