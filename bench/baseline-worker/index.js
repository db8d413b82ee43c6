// The plain JavaScript Worker a pool operator could write from the
// protocol's reference flow, and nothing more: parse the report, take the
// most common vendor, run the same indexed UPDATE as the Rust Worker, keep
// the report in KV for 300 s, answer {success, accepted}. `npm run bench`
// runs it next to the Rust Worker, in the same workerd, against the same D1
// and with the same load, to compare the CPU each spends per report.
//
// The only addition is two response headers carrying D1's billed rows, so
// the benchmark can print them for both Workers; KV costs one write per
// report by construction.

const UPDATE =
  "UPDATE clients SET userAgent = ?1, updatedAt = ?2 " +
  "WHERE address = ?3 AND userAgent = 'jd-client/sv2' AND deletedAt IS NULL";

export default {
  async fetch(request, env) {
    const report = JSON.parse(await request.text());
    const counts = new Map();
    let vendor = null;
    let best = 0;
    for (const miner of report.miners) {
      if (!miner.vendor) continue;
      const n = (counts.get(miner.vendor) ?? 0) + 1;
      counts.set(miner.vendor, n);
      if (n > best) {
        best = n;
        vendor = miner.vendor;
      }
    }
    const identity = report.jdcUserIdentity;
    const address = identity.split(".")[0];
    let meta = { rows_read: 0, rows_written: 0 };
    if (vendor !== null) {
      const result = await env.DB.prepare(UPDATE)
        .bind(`${vendor}/sv2`, new Date().toISOString(), address)
        .run();
      meta = result.meta;
    }
    await env.REPORTS.put(`report:${identity}`, JSON.stringify(report), {
      expirationTtl: 300,
    });
    return Response.json(
      { success: true, accepted: report.miners.length },
      {
        headers: {
          "X-D1-Rows-Read": String(meta.rows_read),
          "X-D1-Rows-Written": String(meta.rows_written),
        },
      },
    );
  },
};
