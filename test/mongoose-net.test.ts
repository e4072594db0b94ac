// SPDX-License-Identifier: MIT
// Raw TCP and UDP, name resolution, Manager timers, wakeup (from JavaScript and
// from another thread) and TLS in the mongoose module, each against a real peer:
// Node's net, dgram and https, openssl-made certificates.
import { execFileSync } from "child_process";
import crypto from "crypto";
import dgram from "dgram";
import fs from "fs";
import https from "https";
import net from "net";
import os from "os";
import path from "path";
import { buildApp, lines, makeApp, runFirmware, TEST_VARIANT, type Files } from "./helpers/sim";
import { freePort, startFirmware, type Running, listenFresh } from "./helpers/net";
import { httpsRequest, makeCert, signatureIntegerLengths } from "./helpers/tls";

// Servers a test starts are closed after it, also when it fails early (a failed build).
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function build(files: Files, modules: string[] = ["./main"]): string {
  return buildApp(makeApp({ "manifest.json": JSON.stringify({ modules: { "*": modules } }), ...files }));
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  expect(r.status).toBe(200);
  return (await r.json()) as T;
}

// A firmware-native helper, as an app would write one: a thread that calls
// mg_wakeup() `count` times with a 4-byte sequence number, pausing pauseUs
// microseconds between calls (0: a burst).
const WAKER_C = `// SPDX-License-Identifier: MIT
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "xm_mg.h"

typedef struct {
	struct mg_mgr* mgr;
	unsigned long id;
	uint32_t count;
	long pause_us;
} waker_t;

static void* waker_run(void* arg)
{
	waker_t* w = arg;
	for (uint32_t i = 0; i < w->count; i++) {
		uint8_t seq[4] = { (uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), (uint8_t)(i >> 24) };
		mg_wakeup(w->mgr, w->id, seq, sizeof(seq));
		if (w->pause_us > 0) {
			struct timespec pause = { 0, w->pause_us * 1000 };
			nanosleep(&pause, NULL);
		}
	}
	free(w);
	return NULL;
}

void waker_start(xsMachine* the)
{
	struct mg_mgr* mgr = xm_mg_mgr_of(the, &xsArg(0));
	if (mgr->pipe.fd == MG_INVALID_SOCKET)
		xsUnknownError("the Manager was made without enableWakeup");
	waker_t* w = malloc(sizeof(*w));
	if (!w)
		xsUnknownError("no memory");
	w->mgr = mgr;
	w->id = (unsigned long)xsToNumber(xsArg(1));
	w->count = (uint32_t)xsToInteger(xsArg(2));
	w->pause_us = xsToInteger(xsArg(3));
	pthread_t thread;
	if (pthread_create(&thread, NULL, waker_run, w) != 0) {
		free(w);
		xsUnknownError("pthread_create failed");
	}
	pthread_detach(thread);
}
`;

const WAKER_JS = `// SPDX-License-Identifier: MIT
export function startWaker(manager, id, count, pauseUs) @ "waker_start";
`;

const WAKER_D_TS = `// SPDX-License-Identifier: MIT
declare module "waker" {
  import type { Manager } from "mongoose";
  /** Starts a thread that calls mg_wakeup(id) count times with sequence numbers 0..count-1. */
  export function startWaker(manager: Manager, id: number, count: number, pauseUs: number): void;
}
`;

interface Ports {
  control: number;
  tcp: number;
  udp: number;
  guarded: number;
  node: number;
}

// One firmware for sockets and wakeup. An HTTP listener lets the test ask it
// things (connections, wakeup); the rest echoes, connects out, and prints.
function netFirmware(p: Ports): string {
  return `
import {
  Manager, HttpMessage, type Connection, type Address, MG_EV_READ, MG_EV_ACCEPT, MG_EV_WAKEUP, MG_EV_HTTP_MSG,
  MG_EV_RESOLVE, MG_EV_CONNECT, MG_EV_CLOSE, MG_EV_ERROR, MG_EV_WRITE,
} from "mongoose";
import { startWaker } from "waker";

function show(a: Address | undefined): string {
  return a ? a.address + ":" + a.port + "/" + a.family : "none";
}
function text(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

const mgr = new Manager(undefined, { enableWakeup: true });

const tcp = mgr.listen("tcp://127.0.0.1:${p.tcp}", (conn, ev) => {
  if (ev === MG_EV_ACCEPT) {
    console.log("tcp accept", conn.id, show(conn.localAddr), show(conn.remoteAddr), conn.isAccepted, conn.isClient);
  } else if (ev === MG_EV_READ) {
    const before = conn.recvLen;
    if (before <= 64 && text(conn.recvData()).startsWith("partial")) {
      const head = conn.recv(3);
      console.log("tcp partial", before, head.length, conn.recvLen);
      conn.send(head);
    }
    const bytes = conn.recv();
    if (before <= 64) console.log("tcp read", conn.id, before, bytes.length, conn.recvLen, JSON.stringify(text(bytes)));
    conn.send(bytes);
  }
});

const udp = mgr.listen("udp://127.0.0.1:${p.udp}", (conn, ev) => {
  if (ev === MG_EV_READ) {
    const bytes = conn.recv();
    console.log("udp read", bytes.length, show(conn.remoteAddr), conn.recvLen, conn.isUdp);
    conn.send(bytes);
  }
});

// Streams STREAM_CHUNKS chunks of 16 KB to each client, chunk i filled with the
// byte i % 251, the next one sent on each WRITE (as a handler that streams a
// file would), then closes.
const STREAM_CHUNKS = 512;
const streamed = new Map<number, number>();  // connection id: chunks sent
const streamer = mgr.listen("tcp://127.0.0.1:0", (conn, ev) => {
  if (ev === MG_EV_CLOSE) streamed.delete(conn.id);
  if ((ev !== MG_EV_ACCEPT && ev !== MG_EV_WRITE) || conn.sendLen > 0) return;
  const chunk = streamed.get(conn.id) ?? 0;
  if (chunk === STREAM_CHUNKS) return;
  conn.send(new Uint8Array(16384).fill(chunk % 251));
  streamed.set(conn.id, chunk + 1);
  if (chunk + 1 === STREAM_CHUNKS) conn.drain();
});

// resolve() on a listener must not turn it into something else.
const guarded = mgr.listen("tcp://127.0.0.1:${p.guarded}", (conn, ev) => {
  if (ev === MG_EV_READ) conn.send(conn.recv());
});
try {
  guarded.resolve("tcp://localhost:1");
  console.log("resolve on a listener: accepted");
} catch (e) {
  console.log("resolve on a listener:", (e as Error).message);
}

// Clients to the test's Node server: by address, and by the name localhost.
function client(label: string) {
  return (conn: Connection, ev: number, data: unknown) => {
    if (ev === MG_EV_RESOLVE) console.log("client", label, "resolved", show(conn.remoteAddr));
    else if (ev === MG_EV_CONNECT) {
      console.log("client", label, "connected", show(conn.remoteAddr), conn.isClient);
      conn.send("hello from " + label + "\\n");
    } else if (ev === MG_EV_READ) {
      console.log("client", label, "read", JSON.stringify(text(conn.recv())));
      conn.close();
    } else if (ev === MG_EV_ERROR) console.log("client", label, "error", data);
    else if (ev === MG_EV_CLOSE) console.log("client", label, "closed");
  };
}
mgr.connect("tcp://127.0.0.1:${p.node}", client("ip"));
mgr.connect("tcp://localhost:${p.node}", client("localhost"));

// Wakeup targets: one printing what JavaScript sends, one counting the thread's.
const target = mgr.listen("tcp://127.0.0.1:0", (conn, ev, data) => {
  if (ev === MG_EV_WAKEUP && data instanceof Uint8Array) console.log("wakeup got", conn.id, JSON.stringify(text(data)));
});
let received = 0, next = 0, outOfOrder = 0, first = -1, last = -1;
const sink = mgr.listen("tcp://127.0.0.1:0", (conn, ev, data) => {
  if (ev !== MG_EV_WAKEUP || !(data instanceof Uint8Array)) return;
  const seq = data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24);
  if (first < 0) first = seq;
  if (seq < next) outOfOrder++;
  next = seq + 1;
  last = seq;
  received++;
});
const doomed = mgr.listen("tcp://127.0.0.1:0");
const doomedId = doomed.id;
doomed.close();
console.log("wakeup to a closing connection:", mgr.wakeup(doomedId, "x"));

const control = mgr.listen("http://127.0.0.1:${p.control}", (conn, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  if (data.uri === "/connections") {
    conn.replyJson(mgr.connections.map((c) => ({
      id: c.id, listening: c.isListening, accepted: c.isAccepted, client: c.isClient, udp: c.isUdp,
      local: c.localAddr ?? null, remote: c.remoteAddr ?? null,
    })));
  } else if (data.uri === "/wakeup") {
    const id = Number(data.queryVar("id"));
    const payload = data.queryVar("data") ?? "";
    // From a timer, as firmware would: the reply goes out when it has run.
    mgr.timerAdd(5, () => {
      const ok = mgr.wakeup(id, payload);
      console.log("wakeup", id, ok);
      conn.replyJson({ ok });
    });
  } else if (data.uri === "/waker") {
    received = 0, next = 0, outOfOrder = 0, first = -1, last = -1;
    startWaker(mgr, sink.id, Number(data.queryVar("count")), Number(data.queryVar("pause")));
    conn.reply(200, "started");
  } else if (data.uri === "/waker-status") {
    conn.replyJson({ received, outOfOrder, first, last });
  } else conn.reply(404, "no such thing");
});

console.log("ready " + JSON.stringify({
  tcp: tcp.id, udp: udp.id, guarded: guarded.id, control: control.id, target: target.id, sink: sink.id,
  doomed: doomedId, pipe: mgr.wakeupId, streamer: streamer.id, streamerPort: streamer.localAddr!.port,
}));
mgr.run(5);
`;
}

interface Ids {
  tcp: number; udp: number; guarded: number; control: number; target: number; sink: number; doomed: number; pipe: number;
  streamer: number; streamerPort: number;
}

interface ConnInfo {
  id: number; listening: boolean; accepted: boolean; client: boolean; udp: boolean;
  local: { address: string; port: number; family: string } | null;
  remote: { address: string; port: number; family: string } | null;
}

function connected(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

// Collects what comes back on a socket until `length` bytes arrived.
function readBytes(socket: net.Socket, length: number, timeoutMs = 10000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => reject(new Error(`got ${got} of ${length} bytes`)), timeoutMs);
    const onData = (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= length) {
        clearTimeout(timer);
        socket.off("data", onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on("data", onData);
  });
}

describe("sockets and wakeup", () => {
  let fw: Running;
  let ports: Ports;
  let ids: Ids;
  let nodeServer: net.Server;
  const nodeGot: string[] = [];
  let base: string;

  beforeAll(async () => {
    nodeServer = net.createServer((socket) => {
      socket.on("data", (d) => {
        nodeGot.push(`${d.toString().trim()} from port ${socket.remotePort}`);
        socket.write(`welcome ${d.toString().trim().split(" ").pop()}`);
      });
      socket.on("error", () => {});
    });
    await listenFresh(nodeServer);
    ports = {
      control: await freePort(), tcp: await freePort(), udp: await freePort(), guarded: await freePort(),
      node: (nodeServer.address() as net.AddressInfo).port,
    };
    const exe = build({ "main.ts": netFirmware(ports), "waker.c": WAKER_C, "waker.js": WAKER_JS, "waker.d.ts": WAKER_D_TS },
      ["./main", "./waker"]);
    fw = startFirmware(exe);
    ids = JSON.parse((await fw.waitFor(/^ready /)).slice(6)) as Ids;
    base = `http://127.0.0.1:${ports.control}`;
  });
  afterAll(async () => {
    await fw?.stop();
    await new Promise((resolve) => nodeServer?.close(resolve));
  });

  test("TCP echo: recv() consumes what it returns (recvLen back to 0), recv(n) takes n; addresses of both ends", async () => {
    const socket = await connected(ports.tcp);
    socket.write("ping");
    expect((await readBytes(socket, 4)).toString()).toBe("ping");
    const line = await fw.waitFor(/^tcp read \d+ 4 /);
    expect(line).toMatch(/^tcp read \d+ 4 4 0 "ping"$/);

    socket.write("partial!!");
    expect((await readBytes(socket, 9)).toString()).toBe("partial!!");
    // The echo may arrive before the firmware's lines do: wait for them.
    expect(await fw.waitFor(/^tcp partial /)).toBe("tcp partial 9 3 6");
    expect(await fw.waitFor(/^tcp read \d+ 9 /)).toMatch(/^tcp read \d+ 9 6 0 "tial!!"$/);  // 9 before recv(3)

    const accept = fw.stdout().split("\n").find((l) => l.startsWith("tcp accept"))!;
    expect(accept).toMatch(new RegExp(`^tcp accept \\d+ 127\\.0\\.0\\.1:${ports.tcp}/IPv4 127\\.0\\.0\\.1:${socket.localPort}/IPv4 true false$`));

    // The connection list has the accepted socket with both addresses; never mongoose's wakeup pipe.
    const list = await getJson<ConnInfo[]>(`${base}/connections`);
    const accepted = list.find((c) => c.remote?.port === socket.localPort)!;
    expect(accepted).toMatchObject({
      accepted: true, listening: false, client: false, udp: false,
      local: { address: "127.0.0.1", port: ports.tcp, family: "IPv4" },
      remote: { address: "127.0.0.1", port: socket.localPort, family: "IPv4" },
    });
    const listeners = list.filter((c) => c.listening).map((c) => c.id).sort((a, b) => a - b);
    expect(listeners).toEqual([ids.tcp, ids.udp, ids.streamer, ids.guarded, ids.control, ids.target, ids.sink].sort((a, b) => a - b));
    expect(list.find((c) => c.id === ids.tcp)!.local).toEqual({ address: "127.0.0.1", port: ports.tcp, family: "IPv4" });
    expect(list.some((c) => c.id === ids.pipe || c.id === ids.doomed)).toBe(false);
    socket.destroy();
  });

  test("1 MB streams through the TCP echo intact", async () => {
    const socket = await connected(ports.tcp);
    const data = crypto.randomBytes(1024 * 1024);
    const back = readBytes(socket, data.length, 30000);
    socket.write(data);
    const got = await back;
    expect(got.length).toBe(data.length);
    expect(got.equals(data)).toBe(true);
    socket.destroy();
  });

  // A handler that sends its next chunk on each WRITE: each chunk goes into an
  // empty buffer, which the Manager writes once mongoose's poll returns
  // (core/send_now.c), and whose WRITE brings the next chunk meanwhile.
  test("8 MB streamed by a handler that sends a chunk on each WRITE arrive whole, in order", async () => {
    const socket = net.connect(ids.streamerPort, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (d: Buffer) => chunks.push(d));
    await new Promise<void>((resolve, reject) => {
      socket.on("end", resolve);
      socket.on("error", reject);
    });
    const got = Buffer.concat(chunks);
    expect(got.length).toBe(512 * 16384);
    const wrong = [...Array(512).keys()].filter((i) => got.subarray(i * 16384, (i + 1) * 16384).some((b) => b !== i % 251));
    expect(wrong).toEqual([]);
  });

  test("UDP echo: each datagram comes back to its sender; remoteAddr is the sender", async () => {
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
    const replies: Buffer[] = [];
    sock.on("message", (m) => replies.push(m));
    for (const msg of ["one", "two", Buffer.from([0, 255, 10, 13, 0]).toString("latin1")]) {
      const before = replies.length;
      sock.send(Buffer.from(msg, "latin1"), ports.udp, "127.0.0.1");
      for (let i = 0; i < 200 && replies.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    }
    expect(replies.map((r) => r.toString("latin1"))).toEqual(["one", "two", "\0\xff\n\r\0"]);
    const port = sock.address().port;
    expect(fw.stdout()).toContain(`udp read 3 127.0.0.1:${port}/IPv4 0 true`);
    expect(fw.stdout()).toContain(`udp read 5 127.0.0.1:${port}/IPv4 0 true`);
    sock.close();
  });

  test("TCP clients in the firmware reach a Node server by address and by the name localhost (no DNS needed)", async () => {
    await fw.waitFor(/^client ip closed$/);
    await fw.waitFor(/^client localhost closed$/);
    const out = fw.stdout();
    for (const label of ["ip", "localhost"]) {
      expect(out).toContain(`client ${label} resolved 127.0.0.1:${ports.node}/IPv4`);
      expect(out).toContain(`client ${label} connected 127.0.0.1:${ports.node}/IPv4 true`);
      expect(out).toContain(`client ${label} read "welcome ${label}"`);
      expect(nodeGot.some((l) => l.startsWith(`hello from ${label} from port`))).toBe(true);
    }
    expect(out).not.toMatch(/client \w+ error/);
  });

  test("resolve() on a listener is refused with a clear error, and the listener keeps working", async () => {
    expect(fw.stdout()).toMatch(/^resolve on a listener: .*connection \d+ is a listener: resolve\(\) re-targets/m);
    const socket = await connected(ports.guarded);
    socket.write("still listening");
    expect((await readBytes(socket, 15)).toString()).toBe("still listening");
    socket.destroy();
  });

  test("wakeup(id, data) from a timer reaches that connection as WAKEUP; unknown, closed and pipe ids give false", async () => {
    expect(fw.stdout()).toContain("wakeup to a closing connection: false");
    expect(await getJson(`${base}/wakeup?id=${ids.target}&data=hello%20target`)).toEqual({ ok: true });
    await fw.waitFor(new RegExp(`^wakeup got ${ids.target} "hello target"$`));
    expect(await getJson(`${base}/wakeup?id=${ids.target}`)).toEqual({ ok: true });
    await fw.waitFor(new RegExp(`^wakeup got ${ids.target} ""$`));
    for (const id of [999999, ids.doomed, ids.pipe, 0])
      expect(await getJson(`${base}/wakeup?id=${id}&data=x`)).toEqual({ ok: false });
    expect(fw.stdout().match(/^wakeup got/gm)).toHaveLength(2);
  });

  // Runs the thread and waits until the count is complete or stops moving.
  async function waker(count: number, pauseUs: number) {
    expect(await (await fetch(`${base}/waker?count=${count}&pause=${pauseUs}`)).text()).toBe("started");
    let status = { received: 0, outOfOrder: 0, first: -1, last: -1 };
    for (let still = 0, i = 0; i < 500 && still < 10 && status.received < count; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const now = await getJson<typeof status>(`${base}/waker-status`);
      still = now.received === status.received ? still + 1 : 0;
      status = now;
    }
    const lost = count - status.received;
    console.log(`wakeup from a thread (pause ${pauseUs} us): ${status.received}/${count} delivered, ${lost} lost, ` +
      `${status.outOfOrder} out of order, last ${status.last}`);
    return { ...status, lost };
  }

  test("wakeup from another thread, paced: 1000 mg_wakeup calls all arrive, in order", async () => {
    // Paced to what the receiver keeps up with: sanitizer builds run it several times slower.
    const status = await waker(1000, TEST_VARIANT === "debug" ? 50 : 1000);
    expect(status).toEqual({ received: 1000, outOfOrder: 0, first: 0, last: 999, lost: 0 });
  });

  test("wakeup from another thread, in one burst: what arrives is in order; the loss is measured", async () => {
    // mg_wakeup() sends a datagram on a socket pair and ignores a full queue, so a
    // burst larger than the socket's receive buffer loses the excess (printed above).
    const status = await waker(1000, 0);
    expect(status.outOfOrder).toBe(0);
    expect(status.first).toBe(0);
    expect(status.received).toBeGreaterThan(100);
    expect(status.received).toBeLessThanOrEqual(1000);
  });
});

// A DNS server for the test: A records for *.test names it knows, NXDOMAIN for
// missing.test, and silence for silent.test.
function dnsServer(records: Record<string, string>, seen: string[]): Promise<dgram.Socket> {
  const sock = dgram.createSocket("udp4");
  sock.on("message", (query, from) => {
    let at = 12;
    const labels: string[] = [];
    while (query[at] !== 0) {
      labels.push(query.subarray(at + 1, at + 1 + query[at]).toString());
      at += query[at] + 1;
    }
    const name = labels.join(".");
    const type = query.readUInt16BE(at + 1);
    const question = query.subarray(12, at + 5);
    seen.push(`${name} ${type === 1 ? "A" : type === 28 ? "AAAA" : type}`);
    if (name === "silent.test") return;
    const address = type === 1 ? records[name] : undefined;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);                        // the transaction id
    header.writeUInt16BE(address ? 0x8180 : 0x8183, 2);  // a response; NXDOMAIN without an answer
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(address ? 1 : 0, 6);
    const answer = address
      ? Buffer.concat([Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]), Buffer.from(address.split(".").map(Number))])
      : Buffer.alloc(0);
    sock.send(Buffer.concat([header, question, answer]), from.port, from.address);
  });
  return new Promise((resolve) => sock.bind(0, "127.0.0.1", () => resolve(sock)));
}

describe("name resolution with a DNS server", () => {
  test("names resolve through the Manager's dnsServer; NXDOMAIN and silence give ERROR; resolve() re-targets, resolveCancel() stops", async () => {
    const seen: string[] = [];
    const dns = await dnsServer({ "device.test": "127.0.0.1" }, seen);
    const got: string[] = [];
    const node = net.createServer((socket) => socket.on("data", (d) => {
      got.push(d.toString());
      socket.end(`welcome ${d}`);
    }));
    await listenFresh(node);
    cleanups.push(() => dns.close(), () => new Promise((resolve) => node.close(resolve)));
    const nodePort = (node.address() as net.AddressInfo).port;
    const exe = build({
      "main.ts": `
import { Manager, type Connection, MG_EV_RESOLVE, MG_EV_CONNECT, MG_EV_READ, MG_EV_ERROR, MG_EV_CLOSE } from "mongoose";
const t0 = Date.now();
const mgr = new Manager(undefined, { dnsServer: "udp://127.0.0.1:${dns.address().port}", dnsTimeoutMs: 400 });
function client(label: string, url: string): Connection {
  return mgr.connect(url, (conn, ev, data) => {
    if (ev === MG_EV_RESOLVE) console.log(label, "resolved", conn.remoteAddr?.address, conn.remoteAddr?.port);
    else if (ev === MG_EV_CONNECT) conn.send(label);
    else if (ev === MG_EV_READ) console.log(label, "read", String.fromCharCode(...conn.recv()));
    else if (ev === MG_EV_ERROR) console.log(label, "error", data, Date.now() - t0 >= 350 ? "late" : "early");
    else if (ev === MG_EV_CLOSE) console.log(label, "closed");
  });
}
client("named", "tcp://device.test:${nodePort}");
client("missing", "tcp://missing.test:${nodePort}");
client("silent", "tcp://silent.test:${nodePort}");
client("moved", "tcp://silent.test:${nodePort}").resolve("tcp://device.test:${nodePort}");
const cancelled = client("cancelled", "tcp://silent.test:${nodePort}");
cancelled.resolveCancel();
try {
  client("direct", "tcp://127.0.0.1:${nodePort}").resolve("tcp://device.test:${nodePort}");
  console.log("second resolve: accepted");
} catch (e) {
  console.log("second resolve:", (e as Error).message);
}
mgr.timerAdd(900, () => {
  console.log("cancelled still open", !cancelled.isClosing);
  cancelled.close();
});
mgr.timerAdd(1000, () => mgr.close());
await mgr.run(5);
try {
  new Manager(undefined, { dnsServer: "tcp://127.0.0.1:53" });
} catch (e) {
  console.log("bad server:", (e as Error).message);
}
`,
    });
    const r = await runFirmware(exe, ["--timeout", "20"]);
    const out = lines(r.stdout);
    expect({ code: r.code, out, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(out).toContain(`named resolved 127.0.0.1 ${nodePort}`);
    expect(out).toContain("named read welcome named");
    expect(out).toContain(`moved resolved 127.0.0.1 ${nodePort}`);
    expect(out).toContain("moved read welcome moved");
    expect(got.sort()).toEqual(["direct", "moved", "named"]);
    // mongoose's message names the host, but the guard against its AAAA loop costs the name.
    expect(out.filter((l) => l.startsWith("missing"))).toEqual(["missing error  DNS lookup failed early", "missing closed"]);
    expect(seen.filter((q) => q.startsWith("missing.test"))).toEqual(["missing.test A", "missing.test AAAA"]);
    expect(out).toContain("silent error DNS timeout late");
    expect(out.filter((l) => l.startsWith("cancelled"))).toEqual(["cancelled still open true", "cancelled closed"]);
    expect(out.find((l) => l.startsWith("second resolve:"))).toMatch(/is already resolved: resolve\(\) re-targets/);
    expect(out.find((l) => l.startsWith("bad server:"))).toMatch(/DNS server tcp:\/\/127\.0\.0\.1:53: expected udp:\/\/host:port/);
    // mongoose asks for AAAA when there is no A record; the lookups "moved" replaced are never answered.
    expect(seen).toEqual(expect.arrayContaining(["device.test A", "missing.test A", "missing.test AAAA", "silent.test A"]));
  });
});

describe("Manager timers", () => {
  test("one-shot, repeat, runNow, cancel in its own callback or another's, added from handlers, stopped by close()", async () => {
    const exe = build({
      "main.ts": `
import { Manager, MG_EV_POLL, MG_EV_WAKEUP } from "mongoose";
const t0 = Date.now();
const ms = () => Date.now() - t0;
const mgr = new Manager(undefined, { errorHandler: (e) => console.log("handler error", (e as Error).message) });

const once = mgr.timerAdd(50, () => console.log("once fired", ms(), once.active));
console.log("once active", once.active);

let ticks = 0;
const rep = mgr.timerAdd(20, () => ticks++, { repeat: true });
mgr.timerAdd(110, () => {
  rep.cancel();
  console.log("rep cancelled", ms(), ticks, rep.active);
});
mgr.timerAdd(300, () => console.log("rep later", ticks));

const nows: number[] = [];
const rn = mgr.timerAdd(100, () => nows.push(ms()), { repeat: true, runNow: true });
mgr.timerAdd(250, () => {
  rn.cancel();
  console.log("runNow", JSON.stringify(nows));
});

let own = 0;
const self = mgr.timerAdd(15, () => {
  own++;
  if (own === 3) {
    self.cancel();
    self.cancel();  // idempotent
    console.log("self cancelled", own, self.active);
  }
}, { repeat: true });
mgr.timerAdd(200, () => console.log("self total", own));

let added = false;
const listener = mgr.listen("tcp://127.0.0.1:0", (conn, ev, data) => {
  if (ev === MG_EV_WAKEUP) console.log("woken", (data as Uint8Array).length);
  if (ev === MG_EV_POLL && !added) {
    added = true;
    const at = ms();
    mgr.timerAdd(30, () => console.log("from handler", ms() - at));
  }
});
mgr.timerAdd(40, () => {
  const at = ms();
  mgr.timerAdd(20, () => console.log("from timer", ms() - at));
});

let forever = 0;
const spin = mgr.timerAdd(10, () => forever++, { repeat: true });
const pending = mgr.timerAdd(60000, () => console.log("pending fired"));
console.log("wakeupId before run", mgr.wakeupId);
mgr.timerAdd(300, () => console.log("run's pipe", mgr.wakeupId > 0, mgr.wakeup(listener.id, "hi"), mgr.wakeup(mgr.wakeupId, "x")));
mgr.timerAdd(400, () => {
  console.log("closing", ms(), spin.active);
  mgr.close();
  console.log("close requested", mgr.closed);
});
await mgr.run(5);
const atClose = forever;
console.log("after run", spin.active, pending.active, once.active, rep.active);
try {
  mgr.timerAdd(10, () => {});
} catch (e) {
  console.log("timerAdd after close:", (e as Error).message);
}
spin.cancel();
setTimeout(() => console.log("later", forever === atClose, spin.active), 100);
try {
  new Manager().wakeup(1, "x");
} catch (e) {
  console.log("wakeup without enableWakeup:", (e as Error).message);
}
`,
    });
    const r = await runFirmware(exe, ["--timeout", "20"]);
    const out = lines(r.stdout);
    const find = (prefix: string) => {
      const line = out.find((l) => l.startsWith(prefix));
      if (line === undefined) throw new Error(`no "${prefix}" line in:\n${r.stdout}\nstderr:\n${r.stderr}`);
      return line.slice(prefix.length).trim().split(" ");
    };
    expect(r.code).toBe(0);
    expect(find("once active")).toEqual(["true"]);
    const [onceAt, onceActive] = find("once fired");
    expect(Number(onceAt)).toBeGreaterThanOrEqual(45);
    expect(Number(onceAt)).toBeLessThan(400);
    expect(onceActive).toBe("false");

    const [cancelAt, ticksAtCancel, repActive] = find("rep cancelled");
    expect(Number(cancelAt)).toBeGreaterThanOrEqual(105);
    expect(Number(ticksAtCancel)).toBeGreaterThanOrEqual(2);
    expect(Number(ticksAtCancel)).toBeLessThanOrEqual(6);
    expect(repActive).toBe("false");
    expect(find("rep later")).toEqual([ticksAtCancel]);  // nothing after the cancel

    const nows = JSON.parse(find("runNow")[0]) as number[];
    expect(nows[0]).toBeLessThan(50);  // at once, not after 100 ms
    expect(nows.length).toBeGreaterThanOrEqual(2);
    expect(nows.length).toBeLessThanOrEqual(3);

    expect(find("self cancelled")).toEqual(["3", "false"]);
    expect(find("self total")).toEqual(["3"]);
    expect(Number(find("from handler")[0])).toBeGreaterThanOrEqual(25);
    expect(Number(find("from timer")[0])).toBeGreaterThanOrEqual(15);

    expect(find("closing")[1]).toBe("true");
    expect(find("close requested")).toEqual(["true"]);
    expect(find("after run")).toEqual(["false", "false", "false", "false"]);
    expect(find("timerAdd after close:").join(" ")).toMatch(/closed/);
    expect(find("later")).toEqual(["true", "false"]);
    expect(find("wakeup without enableWakeup:").join(" ")).toMatch(/enableWakeup/);
    // Without enableWakeup, run() sets the pipe up: wakeup() then works, and not to the pipe itself.
    expect(find("wakeupId before run")).toEqual(["0"]);
    expect(find("run's pipe")).toEqual(["true", "true", "false"]);
    expect(find("woken")).toEqual(["2"]);
    expect(out).not.toContain("pending fired");
  });
});

describe("Manager timers that throw", () => {
  test("are uncaught exceptions, as with setTimeout: reported with the stack, the firmware ends with exit code 1", async () => {
    const exe = build({
      "main.ts": `
import { Manager } from "mongoose";
const mgr = new Manager();
mgr.timerAdd(20, () => console.log("first ran"));
mgr.timerAdd(40, function failing() {
  throw new Error("timer threw");
});
mgr.timerAdd(200, () => console.log("never runs"));
mgr.run(5);
`,
    });
    const r = await runFirmware(exe, ["--timeout", "20"]);
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual(["first ran"]);
    expect(r.stderr).toMatch(/^xsmg: uncaught exception in a Manager timer: Error: timer threw\n at failing \(.*main\.ts:6\)/);
  });
});

describe("TLS with mongoose's built-in TLS", () => {
  let dir: string;
  let cert: string;
  let key: string;
  let otherCert: string;
  let pkcs8Key: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xsmg-tls-"));
    // Its signature has an r or s shorter than 32 bytes, which mongoose 7.19 could not check.
    ({ cert, key } = makeCert(dir, "server", { shortSignature: true }));
    otherCert = makeCert(dir, "other").cert;
    pkcs8Key = execFileSync("openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", path.join(dir, "server.key")], { encoding: "utf8" });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("an https server in the firmware answers Node; firmware clients verify a Node https server against the CA", async () => {
    expect(key).toContain("BEGIN EC PRIVATE KEY");
    expect(Math.min(...signatureIntegerLengths(cert))).toBeLessThan(32);
    const node = https.createServer({ cert, key }, (req, res) => res.end(`node says hi to ${req.url}`));
    await listenFresh(node);
    cleanups.push(() => new Promise((resolve) => node.close(resolve)));
    const nodePort = (node.address() as net.AddressInfo).port;
    expect(pkcs8Key).toContain("BEGIN PRIVATE KEY");
    const port = await freePort();
    const plainPort = await freePort();
    const pkcs8Port = await freePort();
    const exe = build({
      "main.ts": `
import { Manager, HttpMessage, type Connection, type TlsOptions, MG_EV_ACCEPT, MG_EV_CONNECT, MG_EV_TLS_HS, MG_EV_HTTP_MSG,
  MG_EV_ERROR, MG_EV_CLOSE } from "mongoose";
const CERT = ${JSON.stringify(cert)};
const KEY = ${JSON.stringify(key)};
const OTHER = ${JSON.stringify(otherCert)};
const PKCS8 = ${JSON.stringify(pkcs8Key)};
const mgr = new Manager();
// The same key in PKCS#8 form.
mgr.listen("https://127.0.0.1:${pkcs8Port}", (conn, ev, data) => {
  if (ev === MG_EV_ACCEPT) conn.tlsInit({ cert: CERT, key: PKCS8 });
  else if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) conn.reply(200, "pkcs8 " + data.uri);
});
mgr.listen("https://127.0.0.1:${port}", (conn, ev, data) => {
  if (ev === MG_EV_ACCEPT) conn.tlsInit({ cert: CERT, key: KEY });
  else if (ev === MG_EV_TLS_HS) console.log("server handshake", conn.id, conn.isTls);
  else if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) {
    console.log("server request", data.uri, conn.isTls);
    conn.reply(200, "secure " + data.uri);
  }
  else if (ev === MG_EV_ERROR) console.log("server error", data);
});

function client(label: string, options: TlsOptions, then?: () => void, host = "localhost") {
  mgr.connect("https://" + host + ":${nodePort}/" + label, (conn: Connection, ev: number, data: unknown) => {
    if (ev === MG_EV_CONNECT) {
      try {
        conn.tlsInit(options);
      } catch (e) {
        console.log("client", label, "tlsInit threw", (e as Error).message);
        conn.close();
      }
    } else if (ev === MG_EV_TLS_HS) {
      console.log("client", label, "handshake", conn.isTls);
      conn.send("GET /" + label + " HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n");
    } else if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) {
      console.log("client", label, "got", data.status(), JSON.stringify(data.bodyText));
      conn.close();
    } else if (ev === MG_EV_ERROR) {
      console.log("client", label, "error", data);
    } else if (ev === MG_EV_CLOSE) {
      console.log("client", label, "closed");
      then?.();
    }
  });
}
client("verified", { ca: CERT, name: "localhost" });
client("wrongca", { ca: OTHER, name: "localhost" });
// The certificate lists IP 127.0.0.1, the address connected to: that must not pass for another name.
client("wrongname", { ca: CERT, name: "example.com" });
client("ipname", { ca: CERT, name: "127.0.0.1" }, undefined, "127.0.0.1");
client("wrongip", { ca: CERT, name: "127.0.0.2" }, undefined, "127.0.0.1");
client("skip", { skipVerification: true, name: "localhost" });
client("skipnoname", { skipVerification: true });
client("noname", { ca: CERT });
// Requests one after another, each answered and then closed by the server.
let sequence = 0;
const next = () => sequence < 30 ? client("seq" + sequence++, { ca: CERT, name: "localhost" }, next) : console.log("sequence done");
next();

for (const bad of [{ key: "-----BEGIN PRIVATE KEY-----\\nAA==\\n-----END PRIVATE KEY-----\\n", cert: CERT }, { cert: CERT }]) {
  try {
    mgr.connections[0].tlsInit(bad);
  } catch (e) {
    console.log("bad options:", (e as Error).message);
  }
}
// tlsFree() undoes tlsInit(): a listener stays a plain one.
const plain = mgr.listen("http://127.0.0.1:${plainPort}", (conn, ev, data) => {
  if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) conn.reply(200, "plain " + conn.isTls);
});
plain.tlsInit({ cert: CERT, key: KEY });
try {
  plain.tlsInit({ cert: CERT, key: KEY });
} catch (e) {
  console.log("second tlsInit:", (e as Error).message);
}
console.log("plain listener tls", plain.isTls);
plain.tlsFree();
plain.tlsFree();  // idempotent
console.log("plain listener after tlsFree", plain.isTls, plain.isListening);
console.log("ready");
mgr.run(5);
`,
    });
    const fw = startFirmware(exe);
    try {
      await fw.waitFor(/^ready$/);
      expect(await httpsRequest({ host: "127.0.0.1", port, path: "/over-tls", rejectUnauthorized: false })).toBe("200 secure /over-tls");
      // And with verification, against the same self-signed certificate as CA.
      expect(await httpsRequest({ host: "127.0.0.1", port, path: "/checked", ca: cert, servername: "localhost" })).toBe("200 secure /checked");
      expect(await httpsRequest({ host: "127.0.0.1", port: pkcs8Port, path: "/key", ca: cert, servername: "localhost" })).toBe("200 pkcs8 /key");
      // The built-in TLS server never reports TLS_HS: mongoose 7.23 fires it for clients only
      // (mg_tls_server_handshake clears is_tls_hs without an event).
      expect(fw.stdout()).toContain("server request /over-tls true");
      expect(fw.stdout()).not.toContain("server handshake");

      for (const label of ["verified", "wrongca", "wrongname", "ipname", "wrongip", "skip", "skipnoname", "noname"])
        await fw.waitFor(new RegExp(`^client ${label} closed$`));
      await fw.waitFor(/^sequence done$/, 30000);
      const out = fw.stdout();
      expect(out).toContain("client verified handshake true");
      expect(out).toContain('client verified got 200 "node says hi to /verified"');
      // Each answer arrives although the server closes right after it (with TLS 1.3
      // session tickets before it): mongoose alone loses about a third of them.
      const answered = Array.from({ length: 30 }, (_, i) => out.includes(`client seq${i} got 200 "node says hi to /seq${i}"`));
      expect(answered.filter((ok) => !ok).length).toBe(0);
      expect(out).not.toMatch(/client seq\d+ error/);
      expect(out).toMatch(/client wrongca error .*verify CA/);
      expect(out).toMatch(/client wrongname error .*hostname/);
      expect(out).not.toContain("client wrongname handshake");
      expect(out).toContain('client ipname got 200 "node says hi to /ipname"');
      expect(out).toMatch(/client wrongip error .*hostname/);
      expect(out).toContain('client skip got 200 "node says hi to /skip"');
      // Without a name mongoose checks none (and sends no SNI): allowed only when skipping verification.
      expect(out).toContain('client skipnoname got 200 "node says hi to /skipnoname"');
      expect(out).toMatch(/bad options: tlsInit: the key is PKCS#8 \(BEGIN PRIVATE KEY\) but not an EC P-256 key/);
      expect(out).toMatch(/client noname tlsInit threw tlsInit: a client that verifies its server needs name/);
      expect(out).toMatch(/bad options: tlsInit: cert and key go together/);
      expect(out).toMatch(/second tlsInit: .*connection \d+ already has TLS: tlsFree\(\) it first/);
      expect(out).toContain("plain listener tls true");
      expect(out).toContain("plain listener after tlsFree false true");
      expect(await (await fetch(`http://127.0.0.1:${plainPort}/`)).text()).toBe("plain false");
    } catch (error) {
      throw new Error(`${String(error)}\nfirmware stdout:\n${fw.stdout()}\nstderr:\n${fw.stderr()}`);
    } finally {
      await fw.stop();
    }
  });

  // mongoose alone writes about one CertificateVerify signature in 256 as DER that
  // OpenSSL refuses ("bad signature"): 1,000 in a row would then all pass about
  // once in 50 runs. XM_MG_TLS_SIGN (mg_config.h) signs such a one again.
  // ThreadSanitizer looks at what tasks share, and these handshakes run on the XS
  // task alone: there the count would only cost CI 40 s, so 100 do.
  const handshakes = TEST_VARIANT === "tsan" ? 100 : 1000;
  test(`${handshakes.toLocaleString("en-US")} handshakes of an OpenSSL client (Node) with the firmware's TLS server all succeed`, async () => {
    const port = await freePort();
    const exe = build({
      "main.ts": `
import { Manager, HttpMessage, MG_EV_ACCEPT, MG_EV_HTTP_MSG } from "mongoose";
const mgr = new Manager();
mgr.listen("https://127.0.0.1:${port}", (conn, ev, data) => {
  if (ev === MG_EV_ACCEPT) conn.tlsInit({ cert: ${JSON.stringify(cert)}, key: ${JSON.stringify(key)} });
  else if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) conn.reply(200, "ok");
});
console.log("ready");
mgr.run(5);
`,
    });
    const fw = startFirmware(exe);
    try {
      await fw.waitFor(/^ready$/);
      const failures: string[] = [];
      for (let i = 0; i < handshakes; i++)
        await httpsRequest({ host: "127.0.0.1", port, path: "/", ca: cert, servername: "localhost" }).catch((e) => failures.push(String(e)));
      expect(failures).toEqual([]);
    } finally {
      await fw.stop();
    }
  }, 300_000);
});
