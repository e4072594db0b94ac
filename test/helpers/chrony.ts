// SPDX-License-Identifier: MIT
// A real NTP server for the tests: chronyd (Debian package chrony) started on a
// free port of 127.0.0.1, serving its local clock (-x: it never touches the
// machine's clock).
import { ChildProcess, spawn } from "child_process";
import dgram from "dgram";
import fs from "fs";
import os from "os";
import path from "path";

export function freeUdpPort(): Promise<number> {
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
export function ntpQuery(port: number, timeoutMs: number): Promise<Buffer | undefined> {
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

export interface Chrony {
  port: number;
  stop(): Promise<void>;
}

// Fails with what chronyd said when it cannot serve: the SNTP tests need it.
export async function startChrony(): Promise<Chrony> {
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

export interface LossyRelay {
  port: number;
  /** Every datagram the relay received, the dropped first one included. */
  requests: Buffer[];
  close(): void;
}

/** A UDP relay to 127.0.0.1:target that loses the first datagram and passes the rest. */
export async function startLossyRelay(target: number): Promise<LossyRelay> {
  const relay = dgram.createSocket("udp4");
  const upstream = dgram.createSocket("udp4");
  const requests: Buffer[] = [];
  let client: { address: string; port: number } | undefined;
  relay.on("message", (msg, from) => {
    requests.push(msg);
    client = { address: from.address, port: from.port };
    if (requests.length > 1) upstream.send(msg, target, "127.0.0.1");
  });
  upstream.on("message", (reply) => client && relay.send(reply, client.port, client.address));
  await new Promise<void>((r) => relay.bind(0, "127.0.0.1", r));
  await new Promise<void>((r) => upstream.bind(0, "127.0.0.1", r));
  return {
    port: relay.address().port,
    requests,
    close: () => {
      relay.close();
      upstream.close();
    },
  };
}
