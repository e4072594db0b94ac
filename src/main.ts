// SPDX-License-Identifier: MIT
// The demo firmware (`npm start`): a small networked device. It serves its status
// and a simulated LED over HTTP on port 8080, pushes a heartbeat to WebSocket
// clients on /ws, and logs each heartbeat; Ctrl-C stops it.
import Timer from "timer";
import { AsyncManager, AsyncConnection } from "mongoose";

const PORT = 8080;
const started = Date.now();
let led = false;
let beats = 0;
const sockets = new Set<AsyncConnection>();

const am = new AsyncManager();
await am.start();

await am.serve(`http://0.0.0.0:${PORT}`, async (req, conn) => {
  if (req.uri === "/ws") {
    await conn.wsUpgrade(req.message);
    sockets.add(conn);
    conn.closed.then(() => sockets.delete(conn));
    return;
  }
  if (req.uri === "/api/status")
    return { headers: { "Content-Type": "application/json" }, body: JSON.stringify({ uptimeMs: Date.now() - started, led, beats }) };
  if (req.uri === "/api/led" && req.method === "POST") {
    led = req.text().trim() === "on";
    return `led ${led ? "on" : "off"}\n`;
  }
  return { status: 404, body: "not found: try /api/status, POST /api/led, or a WebSocket on /ws\n" };
});
console.log(`xs-mongoose demo firmware: serving http://127.0.0.1:${PORT}/api/status`);

Timer.repeat(() => {
  beats++;
  console.log(`heartbeat ${beats}: led ${led ? "on" : "off"}, ${sockets.size} websocket client(s)`);
  for (const ws of sockets) ws.wsSend(JSON.stringify({ beats, led })).catch(() => sockets.delete(ws));
}, 5000);
