// The firmware's main module: it runs at boot. A small HTTP server on the
// AsyncManager; `xsmg run` builds it and runs it in the simulator.
import { AsyncManager } from "mongoose";

const PORT = 8080;
const started = Date.now();

const am = new AsyncManager();
await am.start();

await am.serve(`http://0.0.0.0:${PORT}`, (req) => {
  if (req.uri === "/")
    return { headers: { "Content-Type": "application/json" }, body: JSON.stringify({ hello: "world", uptimeMs: Date.now() - started }) };
  return { status: 404, body: `no page at ${req.uri}\n` };
});
console.log(`serving http://127.0.0.1:${PORT}/`);
