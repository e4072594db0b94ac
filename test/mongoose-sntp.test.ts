// SPDX-License-Identifier: MIT
// SNTP in the mongoose module against a real NTP server: chronyd (Debian package
// chrony) started by the test on a free port of 127.0.0.1, serving its local
// clock (-x: it never touches the machine's clock).
import { buildApp, makeApp } from "./helpers/sim";
import { startFirmware, type Running } from "./helpers/net";
import { startChrony, startLossyRelay, type Chrony } from "./helpers/chrony";

// Prints "time <epoch ms>" for SNTP_TIME and what else happens. With lossy set it
// asks again with sntpRequest() until a reply comes.
function firmware(port: number, lossy: boolean): string {
  return `
import { Manager, MG_EV_SNTP_TIME, MG_EV_ERROR, MG_EV_CLOSE } from "mongoose";

const mgr = new Manager();
let got = false;
const conn = mgr.sntpConnect("udp://127.0.0.1:${port}", (_c, ev, data) => {
  if (ev === MG_EV_SNTP_TIME) {
    got = true;
    console.log("time " + data + " " + typeof data);
  } else if (ev === MG_EV_ERROR) {
    console.log("error " + data);
  } else if (ev === MG_EV_CLOSE) {
    console.log("close");
    mgr.close();
  }
});
console.log("udp " + conn.isUdp);
if (${lossy}) {
  // mongoose gives up after 3 s without a reply: retry well before.
  const retry = mgr.timerAdd(300, () => {
    if (got || conn.isClosing) return retry.cancel();
    console.log("asking again");
    conn.sntpRequest();
  }, { repeat: true });
}
const tcp = mgr.listen("tcp://127.0.0.1:0");
try {
  tcp.sntpRequest();
} catch (e) {
  console.log("on tcp: " + (e as Error).message);
}
tcp.close();
await mgr.run(10);
try {
  conn.sntpRequest();
} catch (e) {
  console.log("after close: " + (e as Error).message);
}
`;
}

function build(port: number, lossy: boolean): string {
  return buildApp(makeApp({ "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }), "main.ts": firmware(port, lossy) }));
}

describe("mongoose SNTP against chronyd", () => {
  let chrony: Chrony;
  const running: Running[] = [];

  beforeAll(async () => {
    chrony = await startChrony();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((fw) => fw.stop()));
  });
  afterAll(async () => {
    await chrony?.stop();
  });

  test("sntpConnect: SNTP_TIME brings epoch milliseconds close to the real time, then mongoose closes", async () => {
    const fw = startFirmware(build(chrony.port, false));
    running.push(fw);
    const line = await fw.waitFor(/^time /);
    const now = Date.now();
    const [, ms, type] = line.split(" ");
    expect(type).toBe("number");
    expect(Math.abs(Number(ms) - now)).toBeLessThan(3000);
    await fw.waitFor(/^close$/);
    expect(await fw.exited).toBe(0);
    const out = fw.stdout();
    expect(out).toMatch(/^udp true$/m);
    expect(out).toMatch(/^after close: (\w+: )?connection \d+ is closed$/m);
    expect(out).toMatch(/^on tcp: (\w+: )?connection \d+ is not UDP: sntpRequest needs a connection from sntpConnect$/m);
    expect(out).not.toMatch(/^error /m);
    expect(out.match(/^time /gm)).toHaveLength(1);
  });

  test("sntpRequest asks again: through a link that drops the first request, the second gets the time", async () => {
    const relay = await startLossyRelay(chrony.port);
    const requests = relay.requests;
    try {
      const fw = startFirmware(build(relay.port, true));
      running.push(fw);
      const line = await fw.waitFor(/^time /);
      expect(Math.abs(Number(line.split(" ")[1]) - Date.now())).toBeLessThan(3000);
      expect(fw.stdout()).toMatch(/^asking again$/m);
      expect(requests.length).toBeGreaterThanOrEqual(2);
      for (const r of requests) {
        expect(r.length).toBe(48);
        expect(r[0] & 7).toBe(3);          // mode: client
        expect((r[0] >> 3) & 7).toBe(4);   // version 4
      }
      expect(await fw.exited).toBe(0);
    } finally {
      relay.close();
    }
  });
});
