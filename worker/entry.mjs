// The Worker's entry point: a plain module Worker (`export default { fetch }`)
// around what worker-build produces in worker/build/index.js.
//
// worker-build exports a `WorkerEntrypoint` class wrapped in proxies, so the
// runtime constructs an instance, a proxy for it and a proxy for its `fetch`
// on every request; V8's profile of a report put that at about 5 % of the
// Worker's CPU (`npm run bench -- --profile dmr-bench-rust`). A module
// Worker's `fetch` is called as it is. What the proxies are for is kept:
// after a wasm trap (a panic aborts), the next request starts a fresh wasm
// instance, through worker-build's own reinitialisation (it runs when its
// class is constructed and the init state says a critical error happened).
import Worker from "./build/index.js";

const state = globalThis.__worker_init_state;
const handle = Worker.prototype.fetch;
if (typeof state !== "object" || state === null || typeof handle !== "function") {
  // worker-build's output no longer has the shape this relies on: fail at
  // startup, loudly, rather than on the first report.
  throw new Error("worker/entry.mjs: worker/build/index.js is not worker-build 0.8's output");
}

export default {
  async fetch(request, env, ctx) {
    if (state.criticalError) {
      // Constructing worker-build's class reinitialises its wasm instance.
      Reflect.construct(Worker, [ctx, env]);
    }
    try {
      return await handle.call({ env, ctx }, request);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        state.criticalError = true;
      }
      throw e;
    }
  },
};
