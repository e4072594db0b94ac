// SPDX-License-Identifier: MIT
// WebSocket in the mongoose module, against the `ws` npm package: a firmware
// echo server with a real client, a firmware client with a real server, and a
// raw socket sending what no well-behaved client would after a real upgrade.
import crypto from "crypto";
import net from "net";
import WebSocket, { WebSocketServer } from "ws";
import { buildApp, makeApp } from "./helpers/sim";
import { freePort, startFirmware, type Running } from "./helpers/net";
import { noise } from "./helpers/noise";

// The firmware: an echo server on /ws (plain HTTP elsewhere) and, when given a
// server port, a client that talks to it. Everything it sees is printed.
function firmware(port: number, serverPort: number): string {
  return `
import {
  Manager, HttpMessage, WsMessage, type Connection, MG_EV_HTTP_MSG, MG_EV_WS_OPEN, MG_EV_WS_MSG, MG_EV_WS_CTL,
  MG_EV_ERROR, MG_EV_CLOSE, WEBSOCKET_OP_PING, WEBSOCKET_OP_PONG, WEBSOCKET_OP_CLOSE,
} from "mongoose";

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}

const mgr = new Manager((conn, ev, data) => {
  if (ev === MG_EV_HTTP_MSG && data instanceof HttpMessage) {
    if (data.uri === "/ws") conn.wsUpgrade(data);
    else conn.reply(200, "plain");
  } else if (ev === MG_EV_WS_OPEN) {
    console.log("server open", conn.id);
  } else if (ev === MG_EV_WS_MSG && data instanceof WsMessage) {
    const payload = data.data;
    console.log("server msg", conn.id, data.opcode, payload.length, data.fin);
    conn.wsSend(payload, data.opcode);
  } else if (ev === MG_EV_WS_CTL && data instanceof WsMessage) {
    console.log("server ctl", conn.id, data.opcode, data.text.length <= 125 ? JSON.stringify(data.text) : "long",
      data.closeCode, JSON.stringify(data.closeReason));
  } else if (ev === MG_EV_ERROR) {
    console.log("server error", conn.id, JSON.stringify(data));
  } else if (ev === MG_EV_CLOSE && conn.isWebsocket) {
    console.log("server close", conn.id);
  }
});
mgr.listen("http://127.0.0.1:${port}");

function client(conn: Connection, ev: number, data: unknown): void {
  if (ev === MG_EV_WS_OPEN) {
    console.log("client open");
    conn.wsSend("hello from firmware");
  } else if (ev === MG_EV_WS_MSG && data instanceof WsMessage) {
    console.log("client msg", data.opcode, JSON.stringify(data.text));
    conn.wsSend("are you there", WEBSOCKET_OP_PING);
  } else if (ev === MG_EV_WS_CTL && data instanceof WsMessage) {
    console.log("client ctl", data.opcode, JSON.stringify(data.text), data.closeCode, JSON.stringify(data.closeReason));
    if (data.opcode === WEBSOCKET_OP_PONG) conn.wsClose(4002, "firmware done");
  } else if (ev === MG_EV_ERROR) {
    console.log("client error", JSON.stringify(data));
  } else if (ev === MG_EV_CLOSE) {
    console.log("client close");
  }
}
const serverPort: number = ${serverPort};
if (serverPort > 0) mgr.wsConnect(\`ws://127.0.0.1:\${serverPort}/firmware\`, client);
console.log("ready", hex(new Uint8Array([WEBSOCKET_OP_PING, WEBSOCKET_OP_CLOSE])));
mgr.run(10);
`;
}

function build(port: number, serverPort: number): string {
  return buildApp(makeApp({
    "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
    "main.ts": firmware(port, serverPort),
  }));
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function next(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once("message", (data, binary) => resolve({ data: data as Buffer, binary }));
    ws.once("close", () => reject(new Error("closed while waiting for a message")));
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
}

// Resolves once the firmware has closed a raw socket (end or reset), with what it
// sent; rejects if it keeps the connection open for 5 s.
function socketClosed(socket: net.Socket, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (d) => chunks.push(d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the firmware kept the connection open after ${what}`));
    }, 5000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on("error", () => {});  // a reset is a close as far as this test goes
  });
}

// A raw TCP socket that did a real WebSocket upgrade on /ws.
async function upgraded(port: number): Promise<net.Socket> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const key = crypto.randomBytes(16).toString("base64");
  socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const head = await new Promise<string>((resolve, reject) => {
    let got = "";
    const onData = (d: Buffer) => {
      got += d.toString("latin1");
      if (got.includes("\r\n\r\n")) {
        socket.off("data", onData);
        resolve(got);
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
  const accept = crypto.createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  expect(head).toContain(`Sec-WebSocket-Accept: ${accept}`);
  return socket;
}


// A masked client frame, as a client must send it.
function frame(op: number, payload: Buffer, fin = true): Buffer {
  const mask = crypto.randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0, len]) : len < 65536 ? Buffer.from([0, 126, len >> 8, len & 255]) : (() => {
    const b = Buffer.alloc(10);
    b[1] = 127;
    b.writeBigUInt64BE(BigInt(len), 2);
    return b;
  })();
  head[0] = (fin ? 0x80 : 0) | op;
  head[1] |= 0x80;
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

describe("WebSocket server in the firmware, ws client", () => {
  let fw: Running;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    fw = startFirmware(build(port, 0));
    await fw.waitFor(/^ready 0908$/);
  });
  afterAll(async () => {
    await fw?.stop();
  });

  test("text and binary (every byte value) come back with their own opcode; plain HTTP still works", async () => {
    const ws = await open(`ws://127.0.0.1:${port}/ws`);
    ws.send("héllo wörld ✓");
    const text = await next(ws);
    expect(text.binary).toBe(false);
    expect(text.data.toString("utf8")).toBe("héllo wörld ✓");

    const bytes = Buffer.alloc(1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i & 255;
    ws.send(bytes);
    const binary = await next(ws);
    expect(binary.binary).toBe(true);
    expect(binary.data.equals(bytes)).toBe(true);

    ws.send(Buffer.alloc(0));
    const empty = await next(ws);
    expect(empty.binary).toBe(true);
    expect(empty.data.length).toBe(0);

    expect(await (await fetch(`http://127.0.0.1:${port}/other`)).text()).toBe("plain");
    ws.close();
    await closed(ws);
    expect(fw.stdout()).toMatch(/server msg \d+ 1 17 true/);  // 17 UTF-8 bytes
    expect(fw.stdout()).toMatch(/server msg \d+ 2 1024 true/);
  });

  test("a 100 KB message and a fragmented message arrive whole", async () => {
    const ws = await open(`ws://127.0.0.1:${port}/ws`);
    const big = crypto.randomBytes(100 * 1024);
    ws.send(big);
    const echo = await next(ws);
    expect(echo.data.length).toBe(big.length);
    expect(echo.data.equals(big)).toBe(true);

    // Three fragments of one text message: mongoose reassembles, the echo is one frame.
    ws.send("one ", { fin: false });
    ws.send("two ", { fin: false });
    ws.send("three", { fin: true });
    const joined = await next(ws);
    expect(joined.binary).toBe(false);
    expect(joined.data.toString()).toBe("one two three");
    ws.close();
    await closed(ws);
  });

  test("a ping reaches the handler as WS_CTL and mongoose answers with a pong carrying the payload", async () => {
    const ws = await open(`ws://127.0.0.1:${port}/ws`);
    const pong = new Promise<Buffer>((resolve) => ws.once("pong", resolve));
    ws.ping("knock knock");
    expect((await pong).toString()).toBe("knock knock");
    await fw.waitFor(/^server ctl \d+ 9 "knock knock" undefined undefined$/);
    ws.close();
    await closed(ws);
  });

  test("the client's close code and reason reach the handler, and the close is answered", async () => {
    const ws = await open(`ws://127.0.0.1:${port}/ws`);
    ws.send("before close");
    await next(ws);
    const done = closed(ws);
    ws.close(4001, "bye");
    const { code, reason } = await done;
    expect(code).toBe(4001);  // mongoose echoes the close frame
    expect(reason).toBe("bye");
    const line = await fw.waitFor(/^server ctl \d+ 8 .* 4001 "bye"$/);
    const id = line.split(" ")[2];
    await fw.waitFor(new RegExp(`^server close ${id}$`));
  });

  test("random bytes after a real upgrade: the firmware drops that connection and keeps serving", async () => {
    for (const seed of [1, 2, 3, 0xdeadbeef]) {
      const socket = await upgraded(port);
      const done = socketClosed(socket, `noise with seed ${seed}`);
      socket.write(noise(4096, seed));
      await done;
    }
    // Well-formed frames that break the protocol: unmasked from a client, reserved bits, unknown opcode.
    const bad = [
      Buffer.from([0x81, 0x02, 0x68, 0x69]),                 // unmasked text "hi"
      Buffer.concat([Buffer.from([0xc1]), frame(1, Buffer.from("hi")).subarray(1)]),  // RSV1 without an extension
      frame(3, Buffer.from("x")),                             // reserved opcode
      frame(9, Buffer.alloc(126)),                            // control frame longer than 125 bytes
      frame(9, Buffer.from("p"), false),                      // fragmented control frame
    ];
    for (const bytes of bad) {
      const socket = await upgraded(port);
      const done = socketClosed(socket, bytes.toString("hex"));
      socket.write(bytes);
      // Nothing is echoed: the answer is a close frame with 1002 (protocol error), then the end.
      expect((await done).toString("hex")).toBe("880203ea");
    }
    const ws = await open(`ws://127.0.0.1:${port}/ws`);
    ws.send("still here");
    expect((await next(ws)).data.toString()).toBe("still here");
    ws.close();
    await closed(ws);
  });

  test("a frame header announcing 1 GiB closes the connection at once, without waiting for the payload", async () => {
    const socket = await upgraded(port);
    const done = socketClosed(socket, "a 1 GiB frame header");
    const head = Buffer.alloc(14);
    head[0] = 0x82;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(1n << 30n, 2);
    socket.write(head);
    socket.write(Buffer.alloc(1000, 7));  // the start of a payload that will never be complete
    expect((await done).toString("hex")).toBe("880203f1");  // close, 1009: message too big
    expect(fw.stdout()).toMatch(/server error \d+ ".*WebSocket frame.*"/);

    // So does a frame that exceeds what the firmware would buffer (MG_MAX_RECV_SIZE, 256 KiB).
    const socket2 = await upgraded(port);
    const done2 = socketClosed(socket2, "a 300 KiB frame header");
    socket2.write(frame(2, Buffer.alloc(0)));  // an empty message first, echoed
    const head2 = Buffer.alloc(14);
    head2[0] = 0x82;
    head2[1] = 0x80 | 127;
    head2.writeBigUInt64BE(BigInt(300 * 1024), 2);
    socket2.write(head2);
    expect((await done2).toString("hex")).toBe("8200880203f1");

    const ws = await open(`ws://127.0.0.1:${port}/ws`);
    ws.send("after the giant");
    expect((await next(ws)).data.toString()).toBe("after the giant");
    ws.close();
    await closed(ws);
  });
});

describe("WebSocket client in the firmware, ws server", () => {
  test("sends text, gets the echo, pings and sees the pong, then closes with a code", async () => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", resolve));
    const port = await freePort();
    let fw: Running | undefined;
    try {
      const serverPort = (server.address() as net.AddressInfo).port;
      const seen: string[] = [];
      const closedBy = new Promise<{ code: number; reason: string; path: string }>((resolve) => {
        server.on("connection", (ws, req) => {
          ws.on("message", (data, binary) => {
            seen.push(`msg ${binary} ${data.toString()}`);
            ws.send(`echo: ${data.toString()}`);
          });
          ws.on("ping", (data) => seen.push(`ping ${data.toString()}`));  // ws answers the pong itself
          ws.on("close", (code, reason) => resolve({ code, reason: reason.toString(), path: req.url ?? "" }));
        });
      });
      fw = startFirmware(build(port, serverPort));
      await fw.waitFor(/^ready/);
      const end = await closedBy;
      expect(end).toEqual({ code: 4002, reason: "firmware done", path: "/firmware" });
      expect(seen).toEqual(["msg false hello from firmware", "ping are you there"]);
      await fw.waitFor(/^client close$/);
      const out = fw.stdout();
      expect(out).toContain('client msg 1 "echo: hello from firmware"');
      expect(out).toContain('client ctl 10 "are you there" undefined undefined');
      // ws answers our close with the same code: mongoose delivers it as WS_CTL.
      expect(out).toMatch(/client ctl 8 "[^"]*" 4002 "firmware done"/);
      expect(out).not.toContain("client error");
    } finally {
      await fw?.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
