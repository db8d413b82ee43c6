// V8's CPU profile of one Worker under load, through workerd's inspector
// (Chrome DevTools protocol over a websocket): where a report's CPU time
// goes, by function and by part (the Worker's JavaScript glue, its wasm,
// the runtime's built-ins, garbage collection). Clocks inside a Worker do
// not advance while it computes, so the profile is sampled from outside.
//
// `dmr-bench --profile NAME` starts the Workers and runs this while it
// loads the Worker NAME:
//   node bench/profile.mjs INSPECTOR_PORT WORKER_NAME SECONDS [OUT.cpuprofile]
// It prints the top functions by self time and the share of each part.

import { writeFileSync } from "node:fs";

const [port, name, seconds, out] = process.argv.slice(2);
if (!port || !name || !seconds) {
  console.error("usage: node bench/profile.mjs INSPECTOR_PORT WORKER_NAME SECONDS [OUT]");
  process.exit(2);
}

const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
// workerd names a Worker's target `core:user:NAME`.
const target = targets.find((t) =>
  [t.id, t.title, t.url, new URL(t.webSocketDebuggerUrl).pathname].some(
    (s) => typeof s === "string" && s.endsWith(`:${name}`),
  ),
);
if (!target) {
  console.error(`no inspector target for ${name} in ${JSON.stringify(targets)}`);
  process.exit(1);
}

// The session can be closed under us (wrangler's own inspector proxy
// attaches to Workers too): then connect again and start over, so the
// profile covers the end of the load.
let ws;
let nextId = 1;
const pending = new Map();
const send = (method, params = {}) =>
  new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ id, method, params }));
  });
let stopping = false;
let restarts = 0;
function connect() {
  ws = new WebSocket(target.webSocketDebuggerUrl);
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const waiter = pending.get(message.id);
    if (waiter) {
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(JSON.stringify(message.error)));
      else waiter.resolve(message.result);
    }
  };
  ws.onclose = () => {
    for (const waiter of pending.values()) waiter.reject(new Error("closed"));
    pending.clear();
    if (!stopping && restarts++ < 50) setTimeout(connect, 50);
  };
  // workerd handles an idle Worker's inspector messages only when it next
  // runs: send these without waiting, and let the load deliver them.
  ws.onopen = () => {
    for (const [method, params] of [
      ["Profiler.enable", {}],
      ["Profiler.setSamplingInterval", { interval: 100 }],
      ["Profiler.start", {}],
    ]) send(method, params).catch(() => {});
  };
}
console.error(`profiling ${target.webSocketDebuggerUrl}`);
connect();
// Tells the benchmark to start its load.
console.log("profiling");
await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
stopping = true;
const { profile } = await send("Profiler.stop");
ws.close();
if (restarts > 0) console.error(`(the session was closed ${restarts} times; the profile is the last session's)`);
if (out) writeFileSync(out, JSON.stringify(profile));

// Self time per node, from the samples and the time between them.
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const byFunction = new Map();
const parts = new Map();
let total = 0;
for (const node of profile.nodes) {
  const micros = self.get(node.id) ?? 0;
  if (micros === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || "(anonymous)"} ${url ? `${url.split("/").pop()}:${lineNumber + 1}` : ""}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  const part = functionName === "(idle)" ? "idle"
    : functionName === "(garbage collector)" ? "garbage collector"
    : functionName === "(program)" ? "runtime (program)"
    : url.startsWith("wasm://") || /^\$?func\d+|wasm-function/.test(functionName) ? "wasm"
    : url === "" ? "built-ins (no script)"
    : "JavaScript";
  parts.set(part, (parts.get(part) ?? 0) + micros);
  if (part !== "idle") total += micros;
}
const ms = (micros) => (micros / 1000).toFixed(1).padStart(9);
const pct = (micros) => `${((100 * micros) / total).toFixed(1).padStart(5)} %`;
console.log(`V8 CPU profile of ${name}, ${seconds} s, busy ${ms(total)} ms:`);
for (const [part, micros] of [...parts].sort((a, b) => b[1] - a[1])) {
  if (part === "idle") console.log(`  ${"idle".padEnd(24)} ${ms(micros)} ms`);
  else console.log(`  ${part.padEnd(24)} ${ms(micros)} ms ${pct(micros)}`);
}
console.log("top functions by self time:");
for (const [key, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
  if (key.startsWith("(idle)")) continue;
  console.log(`  ${ms(micros)} ms ${pct(micros)}  ${key}`);
}
