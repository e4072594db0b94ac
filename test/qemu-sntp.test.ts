// SPDX-License-Identifier: MIT
// UDP from the virtual board to this machine: xsmg run --host qemu --reach
// udp:10.0.2.123:123=127.0.0.1:PORT puts the UDP gateway (hosts/qemu/udp_gateway.mjs)
// on the board's Ethernet segment beside slirp, and mongoose's SNTP on the board
// asks a real chronyd (test/helpers/chrony.ts) for the time. In the same run the
// board fetches over TCP through a --reach rule and is fetched from through
// --forward: slirp's TCP still works on the gateway's hub.
import { spawnSync } from "child_process";
import http from "http";
import path from "path";
import { startChrony, type Chrony } from "./helpers/chrony";
import { freePort, listenFresh } from "./helpers/net";
import { boardApp } from "./helpers/board";
import { CLI, lines, start } from "./helpers/sim";

// The board starts an hour behind (--clock-offset). SNTP first (a reply lost at
// the first ARP exchange is asked again, up to three times), then the clock set
// from it, then a POST out through --reach, then a server until /stop.
const OFFSET = -3_600_000;
const APP = `
import { AsyncManager } from "mongoose";
const am = new AsyncManager();
await am.start();
console.log("before " + Date.now());
let time = 0;
for (let attempt = 1; !time && attempt <= 3; attempt++) {
  try {
    time = await am.sntp("udp://10.0.2.123:123", { timeout: 5000 });
  } catch (e) {
    console.log("sntp attempt " + attempt + ": " + (e as Error).message);
  }
}
console.log("sntp " + time);
await am.syncClock("udp://10.0.2.123:123");
const r = await am.fetch("http://10.0.2.100:8080/tcp", { method: "POST", body: "beside udp" });
console.log("fetch " + r.status + " " + (await r.text()));
await am.serve("http://0.0.0.0:80", (req) => {
  if (req.uri === "/stop") setTimeout(() => { am.close(); }, 10);
  return req.uri === "/now" ? String(Date.now()) : "served " + req.uri;
});
console.log("listening");
`;

function get(port: number, uri: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path: uri, agent: false, timeout: 10_000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

describe("UDP from the virtual board (qemu) through --reach udp:", () => {
  let chrony: Chrony;
  beforeAll(async () => {
    chrony = await startChrony();
  });
  afterAll(async () => {
    await chrony?.stop();
  });

  test("SNTP on the board gets chronyd's time through the gateway and sets the board's clock, while TCP --reach and --forward still work", async () => {
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => res.end(`${req.method} ${req.url} ${body}`));
    });
    const hostPort = await listenFresh(server);
    const forward = await freePort();
    try {
      const dir = path.dirname(boardApp(APP));
      // Built first, so that the time window below is the run's, not the build's.
      const built = spawnSync(process.execPath, [CLI, "build", "--host", "qemu", "--quiet", "--manifest", path.join(dir, "manifest.json"),
        "--out", path.join(dir, "out")], { encoding: "utf8" });
      expect({ status: built.status, stderr: built.stderr }).toEqual({ status: 0, stderr: "" });
      const before = Date.now();
      const board = start(process.execPath, [CLI, "run", "--host", "qemu", "--quiet", "--timeout", "45",
        "--manifest", path.join(dir, "manifest.json"), "--out", path.join(dir, "out"),
        "--reach", `udp:10.0.2.123:123=127.0.0.1:${chrony.port}`, "--reach", `10.0.2.100:8080=127.0.0.1:${hostPort}`,
        "--forward", `${forward}:80`, "--clock-offset", String(OFFSET)], 55_000);
      await new Promise<void>((resolve, reject) => {
        const poll = setInterval(() => {
          if (board.stdout.includes("listening\n")) resolve();
          else if (board.child.exitCode !== null) reject(new Error(`the board exited early:\n${board.stdout}${board.stderr}`));
          else return;
          clearInterval(poll);
        }, 50);
      });
      const after = Date.now();
      // After syncClock the board's Date.now() is chronyd's (this machine's) time.
      for (let i = 0; i < 3; i++) {
        const sent = Date.now();
        const now = Number(await get(forward, "/now"));
        const received = Date.now();
        expect(Math.abs(now - (sent + received) / 2)).toBeLessThan(50 + (received - sent) / 2);
      }
      expect(await get(forward, "/hello")).toBe("served /hello");
      expect(await get(forward, "/stop")).toBe("served /stop");
      const r = await board.done;
      expect(r.stderr).toBe(`xsmg: forwarding 127.0.0.1:${forward} -> board:80\n` +
        `xsmg: the board reaches 127.0.0.1:${hostPort} at 10.0.2.100:8080\n` +
        `xsmg: the board reaches 127.0.0.1:${chrony.port} at udp:10.0.2.123:123\n`);
      const console = lines(r.stdout);
      expect(r.code).toBe(0);
      expect(console.slice(-2)).toEqual(["fetch 200 POST /tcp beside udp", "listening"]);
      // The time chronyd gave (its clock is this machine's) lies within the run,
      // give or take SNTP's rounding to milliseconds.
      const boardBefore = Number(/^before (\d+)$/m.exec(r.stdout)?.[1]);
      expect(Math.abs(boardBefore - (before + OFFSET))).toBeLessThan(30_000);
      const time = Number(/^sntp (\d+)$/m.exec(r.stdout)?.[1]);
      expect(time).toBeGreaterThanOrEqual(before - 1);
      expect(time).toBeLessThanOrEqual(after + 1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 120_000);

  test("--reach udp: refuses what the gateway cannot take, before anything is built", () => {
    const r = (args: string[]) => spawnSync(process.execPath, [CLI, "run", "--host", "qemu", "--manifest", "/nonexistent/manifest.json", ...args], { encoding: "utf8" });
    expect(r(["--reach", "udp:10.0.2.20:123=127.0.0.1:123"]).stderr)
      .toBe("xsmg: --reach: udp gateway: udp 10.0.2.20:123 -> 127.0.0.1:123: 10.0.2.20 is slirp's (its gateway, DNS, DHCP pool .15-.30 or a guestfwd address)\n");
    expect(r(["--reach", "udp:10.0.2.100:123=127.0.0.1:123", "--reach", "tcp:10.0.2.100:80=127.0.0.1:80"]).stderr)
      .toContain("10.0.2.100 is slirp's (its gateway, DNS, DHCP pool .15-.30 or a guestfwd address)");
    expect(r(["--reach", "udp:10.0.2.123:123=127.0.0.1:1", "--reach", "udp:10.0.2.123:123=127.0.0.1:2"]).stderr)
      .toContain("xsmg: --reach: udp:10.0.2.123:123 has two rules");
    const bad = r(["--reach", "sctp:10.0.2.123:123=127.0.0.1:1"]);
    expect({ status: bad.status, stderr: bad.stderr }).toEqual({
      status: 2, stderr: 'xsmg: --reach takes BOARDIP:PORT=127.0.0.1:HOSTPORT, got "sctp:10.0.2.123:123=127.0.0.1:1" (udp: before BOARDIP for UDP; tcp:, the default, for TCP)\n',
    });
  });
});
