// SPDX-License-Identifier: MIT
// SNTP in the mongoose module against a real NTP server: chronyd (Debian package
// chrony) started by the test on a free port of 127.0.0.1, serving its local
// clock (-x: it never touches the machine's clock).
import { ChildProcess, spawn } from "child_process";
import dgram from "dgram";
import fs from "fs";
import os from "os";
import path from "path";
import { buildApp, makeApp } from "./helpers/sim";
import { startFirmware, type Running } from "./helpers/net";

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.on("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** One NTP client request (version 4, mode 3); resolves with the reply or undefined after timeoutMs. */
function ntpQuery(port: number, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    const request = Buffer.alloc(48);
    request[0] = (4 << 3) | 3;
    const done = (reply: Buffer | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on("message", (reply) => done(reply));
    socket.on("error", () => done(undefined));
    socket.send(request, port, "127.0.0.1");
  });
}

interface Chrony {
  port: number;
  stop(): Promise<void>;
}

// Fails with what chronyd said when it cannot serve: the SNTP tests need it.
async function startChrony(): Promise<Chrony> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-chrony-"));
  const port = await freeUdpPort();
  const conf = path.join(dir, "chrony.conf");
  fs.writeFileSync(conf, [
    `port ${port}`,
    "bindaddress 127.0.0.1",
    "allow 127.0.0.1",
    "local stratum 8",
    "cmdport 0",
    `pidfile ${path.join(dir, "chronyd.pid")}`,
    "",
  ].join("\n"));
  // -d: foreground, log to stderr; -x: leave the system clock alone; -U -u <us>:
  // run as whoever runs the test (as root, chronyd would switch to _chrony).
  const args = ["-d", "-x", "-U", "-u", os.userInfo().username, "-f", conf];
  let log = "";
  let child: ChildProcess;
  try {
    child = spawn("chronyd", args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    throw new Error(`cannot start chronyd (Debian package chrony; .ci/run installs it): ${(e as Error).message}`);
  }
  let exited = false;
  const gone = new Promise<void>((resolve) => child.on("close", () => ((exited = true), resolve())));
  const spawnError = new Promise<Error>((resolve) => child.on("error", resolve));
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      await gone;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // chronyd answers once its local reference is up; stratum 0 would be a refusal.
  const deadline = Date.now() + 15000;
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 0, undefined))]);
    if (failed) {
      await stop();
      throw new Error(`cannot start chronyd (Debian package chrony; .ci/run installs it): ${failed.message}`);
    }
    const reply = await ntpQuery(port, 300);
    if (reply && reply.length >= 48 && reply[1] !== 0) return { port, stop };
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`chronyd ${args.join(" ")} did not serve NTP on 127.0.0.1:${port} ` +
        `(${exited ? "it exited" : "no valid reply in 15 s"}); its log:\n${log}`);
    }
  }
}

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
function tick(): void {
  mgr.poll(10);
  if (!mgr.closed) return void setTimeout(tick, 0);
  try {
    conn.sntpRequest();
  } catch (e) {
    console.log("after close: " + (e as Error).message);
  }
}
tick();
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
    // A UDP relay to chronyd that loses the first datagram.
    const relay = dgram.createSocket("udp4");
    const upstream = dgram.createSocket("udp4");
    const requests: Buffer[] = [];
    let client: { address: string; port: number } | undefined;
    relay.on("message", (msg, from) => {
      requests.push(msg);
      client = { address: from.address, port: from.port };
      if (requests.length > 1) upstream.send(msg, chrony.port, "127.0.0.1");
    });
    upstream.on("message", (reply) => client && relay.send(reply, client.port, client.address));
    await new Promise<void>((r) => relay.bind(0, "127.0.0.1", r));
    await new Promise<void>((r) => upstream.bind(0, "127.0.0.1", r));
    try {
      const fw = startFirmware(build(relay.address().port, true));
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
      upstream.close();
    }
  });
});
