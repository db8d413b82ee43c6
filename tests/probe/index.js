// The tests' window into the Worker's D1 and KV (see wrangler.toml).
//
// POST /d1 with SQL as the body: its statements run as one batch, as
// `wrangler d1 execute --command` runs them; the answer is the first
// statement's rows as JSON, or a 500 with D1's error.
// GET /kv/keys: every key of the REPORTS namespace, with its expiration and
// metadata, as `wrangler kv key list` prints them.
// GET /: names this Worker, so the harness can tell the runtime's entry
// socket from its other ones.

const NAME = "dmr-test-probe";

// Splits SQL into statements at the semicolons outside quotes.
function statements(sql) {
  const out = [];
  let start = 0;
  let quote = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === ";") {
      out.push(sql.slice(start, i));
      start = i + 1;
    }
  }
  out.push(sql.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

async function keys(kv) {
  const all = [];
  let cursor;
  do {
    const page = await kv.list({ cursor });
    all.push(...page.keys);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return all;
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    try {
      if (request.method === "POST" && path === "/d1") {
        const sql = statements(await request.text());
        const results = await env.DB.batch(sql.map((s) => env.DB.prepare(s)));
        return Response.json(results[0]?.results ?? []);
      }
      if (request.method === "GET" && path === "/kv/keys") {
        return Response.json(await keys(env.REPORTS));
      }
      if (request.method === "GET" && path === "/") {
        return new Response(NAME);
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(String(e && e.stack ? e.stack : e), { status: 500 });
    }
  },
};
