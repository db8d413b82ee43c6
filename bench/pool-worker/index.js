// A pool writing its client rows, for `npm run bench`: what one write of a
// session row costs in D1's billed rows, with the triggers of
// worker/migrations/0003_jdc_names.sql and without them. POST a JSON
// {address, sessionId, userAgent}: it runs the reference pool's write
// (blitzpool-server-rust's upsert, which needs its unique key on
// (address, clientName, sessionId)) and answers D1's rows read and written.

const UPSERT =
  "INSERT INTO clients (address, clientName, sessionId, userAgent, startTime) " +
  "VALUES (?1, 'pool', ?2, ?3, ?4) " +
  "ON CONFLICT (address, clientName, sessionId) DO UPDATE SET userAgent = EXCLUDED.userAgent";

export default {
  async fetch(request, env) {
    const row = await request.json();
    const result = await env.DB.prepare(UPSERT)
      .bind(row.address, row.sessionId, row.userAgent, new Date().toISOString())
      .run();
    return Response.json({
      rowsRead: result.meta.rows_read,
      rowsWritten: result.meta.rows_written,
    });
  },
};
