// SPDX-License-Identifier: MIT
// The firmware's clock set from SNTP (AsyncManager.syncClock) against a real
// chronyd: the simulator starts an hour off (--clock-offset, as a device's clock
// is before its first sync), and after the sync Date.now() in the firmware is
// within 50 ms of the machine's clock, which chronyd serves.
import { buildApp, makeApp } from "./helpers/sim";
import { request } from "./helpers/http";
import { freePort, startFirmware, sanitizerReports, type Running } from "./helpers/net";
import { startChrony, startLossyRelay, type Chrony, type LossyRelay } from "./helpers/chrony";

const VARIANT = process.env.XSMG_TEST_VARIANT;
const OFFSET = -3_600_000;

function firmware(p: { chrony: number; relay: number; http: number }): string {
  return `
import { AsyncManager, AbortController } from "mongoose";
const P = ${JSON.stringify(p)};
const am = new AsyncManager();
await am.start();
const before = Date.now();
console.log("before " + before);
try {
  am.syncClock("udp://127.0.0.1:" + P.chrony, { every: 10 });
} catch (error) {
  console.log("refused " + (error as Error).message);
}
// The relay loses the first request: the first sync times out, and the next,
// a second later, sets the clock.
const controller = new AbortController();
try {
  await am.syncClock("udp://127.0.0.1:" + P.relay, { every: 1000, timeout: 500, signal: controller.signal });
  console.log("first ok");
} catch (error) {
  console.log("first " + (error as Error).message);
}
while (Math.abs(Date.now() - before) < 1_800_000) await am.sleep(50);
console.log("synced");
await am.sleep(2200);
controller.abort();
console.log("aborted");
const direct = await am.syncClock("udp://127.0.0.1:" + P.chrony);
console.log("direct " + (direct - Date.now()));
await am.serve("http://127.0.0.1:" + P.http, () => String(Date.now()));
console.log("serving");
`;
}

/** The firmware's Date.now() over HTTP, with this machine's clock when asked and answered. */
async function now(port: number): Promise<{ firmware: number; sent: number; received: number }> {
  const sent = Date.now();
  const answer = await request(port, "GET", "/");
  return { firmware: Number(answer.body.toString()), sent, received: Date.now() };
}

describe("AsyncManager.syncClock against chronyd", () => {
  let chrony: Chrony;
  let relay: LossyRelay;
  let fw: Running;
  let port: number;

  beforeAll(async () => {
    chrony = await startChrony();
    relay = await startLossyRelay(chrony.port);
    port = await freePort();
    const exe = buildApp(makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
      "main.ts": firmware({ chrony: chrony.port, relay: relay.port, http: port }),
    }), VARIANT);
    fw = startFirmware(exe, ["--clock-offset", String(OFFSET)]);
    await fw.waitFor(/^serving$/m, 30000);
  }, 90000);

  afterAll(async () => {
    try {
      if (fw) {
        const code = await fw.stop();
        expect(sanitizerReports(fw.stderr())).toEqual([]);
        expect(VARIANT === "tsan" ? [143, 66] : [143]).toContain(code);
      }
    } finally {
      relay?.close();
      await chrony?.stop();
    }
  });

  it("starts with the offset the simulator was given", () => {
    const before = Number(/^before (\d+)$/m.exec(fw.stdout())?.[1]);
    expect(Math.abs(before - (Date.now() + OFFSET))).toBeLessThan(30000);
  });

  it("refuses a sync period under a second", () => {
    expect(fw.stdout()).toMatch(/^refused syncClock udp:\/\/127\.0\.0\.1:\d+: every must be at least 1000 ms, got 10$/m);
  });

  it("rejects a first sync that fails and sets the clock at the next; abort stops the syncs", async () => {
    expect(fw.stdout()).toMatch(/^first syncClock udp:\/\/127\.0\.0\.1:\d+: timed out after 500 ms$/m);
    expect(fw.stdout()).toMatch(/^synced$/m);
    // Lost first, then one a second: about two more in the 2.2 s before the abort.
    const atAbort = relay.requests.length;
    expect(atAbort).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 2500));
    expect(relay.requests.length).toBe(atAbort);
  });

  it("after the sync, Date.now() in the firmware is within 50 ms of the machine's clock", async () => {
    const direct = Number(/^direct (-?\d+)$/m.exec(fw.stdout())?.[1]);
    expect(Math.abs(direct)).toBeLessThan(50);
    for (let i = 0; i < 5; i++) {
      const r = await now(port);
      const error = r.firmware - (r.sent + r.received) / 2;
      expect(Math.abs(error)).toBeLessThan(50 + (r.received - r.sent) / 2);
    }
  });
});
