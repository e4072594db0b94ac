// SPDX-License-Identifier: MIT
// The soak's firmware: an AsyncManager app that answers HTTP (GET /hello, POST
// /echo), echoes WebSocket messages on /ws, serves its own health on /health
// from the instrumentation module, and ends on /quit. With leak > 0 it keeps
// that many bytes of every /hello request, the leak the soak must catch.

export const COUNTERS = ["XS Slot Heap Used", "XS Chunk Heap Used", "XS Garbage Collection Count", "Network Sockets", "Timers"];

export function firmwareSource(port, leak) {
  return `
import Instrumentation from "instrumentation";
import { AsyncManager } from "mongoose";

const NAMES = ${JSON.stringify(COUNTERS)};
const INDEX = NAMES.map((n) => Instrumentation.map(n)!);
const GC = INDEX[NAMES.indexOf("XS Garbage Collection Count")];
const LEAK = ${Number(leak) | 0};
const kept: Array<{ n: string; s: string }> = [];

// The runtime offers JavaScript no way to ask for a collection: garbage strings
// are made until one runs, and the counters are read just after it. A collection
// that a full chunk heap starts also compacts the chunks (XS compacts them only
// then), so that both readings are the live heap plus the same few bytes,
// whatever the load left behind.
function health(): string {
  const before = Instrumentation.get(GC)!;
  let junk = "";
  for (let i = 0; i < 10_000_000 && Instrumentation.get(GC) === before; i++) junk = "j".repeat(512);
  const h: Record<string, number> = { junk: junk.length };
  NAMES.forEach((n, i) => (h[n] = Instrumentation.get(INDEX[i])!));
  return JSON.stringify(h);
}

const am = new AsyncManager(undefined, { pollInterval: 10, errorHandler: (e) => console.log("errorHandler " + (e as Error).message) });
await am.start();
await am.serve("http://127.0.0.1:${port}", async (req, conn) => {
  switch (req.uri) {
    case "/hello":
      if (LEAK) kept.push({ n: req.query, s: "k".repeat(LEAK) });
      return "hello " + req.query;
    case "/echo":
      return { headers: { "Content-Type": "application/octet-stream" }, body: req.body };
    case "/ws":
      await conn.wsUpgrade(req.message);
      for await (const msg of conn) await conn.wsSend(msg.text, msg.opcode);
      return;
    case "/health":
      return { headers: { "Content-Type": "application/json" }, body: health() };
    case "/quit":
      setTimeout(() => am.close(), 20);
      return "bye";
  }
  return { status: 404, body: "no route for " + req.uri };
});
console.log("ready");
`;
}
