// SPDX-License-Identifier: MIT
// The mongoose module's utilities (util.ts, jsonrpc.ts) in a real firmware,
// checked against Node's own implementations: crypto for digests and HMAC,
// Buffer for base64, zlib for CRC-32, encodeURIComponent, URL, JSON.parse. The
// firmware also parses a multipart form that Node's fetch + FormData posts, and
// serves a JSON-RPC endpoint over HTTP.
import crypto from "crypto";
import zlib from "zlib";
import { buildApp, makeApp } from "./helpers/sim";
import { freePort, startFirmware, type Running } from "./helpers/net";
import { NOISE_SOURCE, noise } from "./helpers/noise";

// --- Inputs, the same on both sides ---

const TEXTS: Record<string, string> = {
  empty: "",
  ascii: "The quick brown fox jumps over the lazy dog",
  printable: Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join(""),
  unicode: "héllo wörld — 日本語 😀 ±∞ \u00a0€",
  controls: "tab\there\r\nnew line\u0001\u007f",
  nul: "a\u0000b\u0000",
  lone: "x\ud800y\udfffz",
  large: "Grüße, 世界! 😀 ".repeat(1500),  // about 25 KB of UTF-8, built in the firmware (too long a literal for xsc)
};
const SMALL_TEXTS = Object.fromEntries(Object.entries(TEXTS).filter(([k]) => k !== "large"));
// Built at run time in the firmware: the engine may keep a pair made by
// concatenation as two halves, which must still hash as one character.
const JOINED = "pair: 😀!";


const BYTES: Record<string, Buffer> = {
  none: Buffer.alloc(0),
  all: Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  noise: Buffer.from(noise(20480, 7)),
  odd: Buffer.from(noise(1001, 3)),
};

const HMAC_KEYS: Record<string, Buffer> = {
  short: Buffer.from("key"),
  empty: Buffer.alloc(0),
  block: Buffer.alloc(64, 0x6b),   // exactly one SHA-256 block: used as is, never hashed
  long: Buffer.alloc(100, 0x6b),
  binary: Buffer.from(noise(32, 11)),
};

const DOC = JSON.stringify({
  name: "Grüße \"quoted\" \\ back/slash \n\t é 😀 \u0001",
  escaped: "\u0000 nul",
  num: 3.14159,
  neg: -0.5,
  big: 1e21,
  int: 123456789012,
  max: 1.7976931348623157e308,
  tiny: 5e-324,
  third: 0.1 + 0.2,
  yes: true,
  no: false,
  nothing: null,
  empty: "",
  list: [1, "two", { three: 3 }, [4, [5]], [], {}],
  nested: { a: { b: { c: "deep" } } },
});
// Whitespace mongoose must step over, and escapes JSON.stringify would not write.
const DOC2 = `  { "s" : "\\u00e9\\u65e5\\ud83d\\ude00\\/\\b\\f" ,\n\t"n" : -12.5e-1 , "arr" : [ 10 , 20 ] }  `;
const PATHS = [
  "$", "$.name", "$.escaped", "$.num", "$.neg", "$.big", "$.int", "$.max", "$.tiny", "$.third", "$.yes", "$.no",
  "$.nothing", "$.empty", "$.list", "$.list[0]", "$.list[1]", "$.list[2]", "$.list[2].three", "$.list[3][1][0]", "$.list[4]",
  "$.list[5]", "$.list[6]", "$.nested.a.b.c", "$.nested.a", "$.missing", "$.name.x", "$.nested.a.b.c.d",
];
const PATHS2 = ["$.s", "$.n", "$.arr[1]", "$.arr"];

const URLS = [
  "http://example.com",
  "https://user:secret@example.com:8443/a/b?c=d#e",
  "http://user@host.local/path",
  "ws://[::1]:9000/ws",
  "wss://host/",
  "mqtt://broker.local",
  "mqtts://broker.local:1234/topic",
  "http://10.0.0.1:8000",
];

// What each wildcard of a pattern captures (see util.ts: ? one byte, * no "/", # anything).
const MATCHES: Array<[string, string, string[] | null]> = [
  ["GET /users/42", "GET /users/*", ["42"]],
  ["a/b/c.txt", "#.txt", ["a/b/c"]],
  ["a/b", "*", null],
  ["a/b", "#", ["a/b"]],
  ["abc", "a?c", ["b"]],
  ["abc", "abc", []],
  ["abd", "abc", null],
  ["", "*", [""]],
  ["/x/y/z", "/*/#", ["x", "y/z"]],
  ["/api/v1/users/7", "/api/*/users/*", ["v1", "7"]],
  ["héllo", "h*o", ["éll"]],
  ["file.tar.gz", "*.gz", ["file.tar"]],
];

const FORM = "a=1&b=hello%20world+x&c=&D=upper&e&f=%zz";
const HTTP_VARS: Array<[string, string | null]> = [
  ["a", "1"], ["b", "hello%20world+x"], ["c", ""], ["d", "upper"], ["e", ""], ["f", "%zz"], ["z", null],
];

const MULTIPART = "--xyz\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue one\r\n" +
  "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n" +
  "line1\r\n--not the boundary\r\nline2\r\n--xyz--\r\n";

// --- The firmware ---

function firmware(port: number): string {
  return `
import {
  Manager, HttpMessage, MG_EV_HTTP_MSG, MG_LL_ERROR, MG_LL_DEBUG, JsonRpc, JsonRpcError, type Data,
  jsonGet, jsonGetNum, jsonGetBool, jsonGetLong, jsonGetStr, urlEncode, urlDecode, urlHost, urlPort, urlUser,
  urlPass, urlUri, urlIsSsl, match, httpVar, httpParseMultipart, md5, sha1, sha256, hmacSha256, hex,
  base64Encode, base64Decode, crc32, randomBytes, millis, logSet, logGet,
} from "mongoose";
import { utf8 } from "mongoose/bytes";

${NOISE_SOURCE}

// JSON lines in ASCII (\\u escapes), so that no character is cut between two reads of stdout.
function line(value: object): void {
  console.log(JSON.stringify(value).replace(/[\\u007f-\\uffff]/g, (c) => "\\\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")));
}
function out(k: string, v: unknown): void {
  if (v === undefined) line({ k, undef: true });
  else if (v instanceof Uint8Array) line({ k, hex: hex(v) });
  else line({ k, v });
}
function attempt(k: string, f: () => unknown): void {
  try {
    out(k, f());
  } catch (e) {
    const error = e as Error;
    line({ k, err: error.name, msg: error.message });
  }
}

const texts: Record<string, string> = ${JSON.stringify(SMALL_TEXTS)};
texts.large = "Grüße, 世界! 😀 ".repeat(1500);
texts.joined = "pair: \\ud83d" + String.fromCharCode(0xde00) + "!";
const bytes: Record<string, Uint8Array> = {
  none: new Uint8Array(0),
  all: new Uint8Array(256).map((_, i) => i),
  noise: noise(20480, 7),
  odd: noise(1001, 3),
};
const keys: Record<string, Uint8Array> = {
  short: base64Decode("${HMAC_KEYS.short.toString("base64")}"),
  empty: new Uint8Array(0),
  block: new Uint8Array(64).fill(0x6b),
  long: new Uint8Array(100).fill(0x6b),
  binary: noise(32, 11),
};

// Digests, base64, CRC-32 and URL encoding of every input, string or bytes.
const inputs: Array<[string, Data]> = [
  ...Object.entries(texts).map(([k, v]): [string, Data] => ["text." + k, v]),
  ...Object.entries(bytes).map(([k, v]): [string, Data] => ["bytes." + k, v]),
  ["buffer.all", bytes.all.buffer],
  ["view.noise", new DataView(bytes.noise.buffer, 100, 1000)],
  ["wide.noise", new Uint16Array(bytes.noise.buffer, 200, 500)],
];
for (const [name, data] of inputs) {
  out("md5/" + name, md5(data));
  out("sha1/" + name, sha1(data));
  out("sha256/" + name, sha256(data));
  out("base64/" + name, base64Encode(data));
  out("unbase64/" + name, base64Decode(base64Encode(data)));
  out("crc32/" + name, crc32(data));
  out("urlEncode/" + name, urlEncode(data));
  if (typeof data === "string") out("utf8/" + name, utf8(data));
  for (const [k, key] of Object.entries(keys)) out("hmac/" + k + "/" + name, hmacSha256(key, data));
}
out("hmac/stringkey", hmacSha256("key", texts.ascii));
const half = bytes.noise.subarray(0, 10240), rest = bytes.noise.subarray(10240);
out("crc32chain", crc32(rest, crc32(half)));
out("crc32init", crc32(bytes.odd, 0xffffffff));
attempt("crc32bad", () => crc32("x", -1));
out("hex", hex(new Uint8Array([0, 1, 15, 16, 127, 128, 255])));
out("hexbuffer", hex(new Uint8Array([222, 173, 190, 239]).buffer));

// Round trips and Node's encodings decoded here.
for (const [k, v] of Object.entries(texts)) {
  if (k !== "lone") attempt("urlRoundTrip/" + k, () => urlDecode(urlEncode(v)) === v);
}
const encoded: Record<string, string> = ${JSON.stringify(Object.fromEntries(Object.entries(SMALL_TEXTS).filter(([k]) => k !== "lone").map(([k, v]) => [k, encodeURIComponent(v)])))};
encoded.large = encodeURIComponent(texts.large);
for (const [k, v] of Object.entries(encoded)) attempt("urlDecode/" + k, () => urlDecode(v));
out("urlDecodeForm", urlDecode("a+b%2Bc%20d", true));
out("urlDecodePlain", urlDecode("a+b%2Bc%20d"));
for (const bad of ["%", "ab%4", "%zz", "x%e9", "%ed%a0%80", "%c0%80"]) attempt("urlDecodeBad/" + bad, () => urlDecode(bad));

for (const bad of ["abc*", "A", "AB=C", " aGk=", "aGk===", "====", "aGk=\\n"]) attempt("base64Bad/" + JSON.stringify(bad), () => base64Decode(bad));
out("base64Unpadded", base64Decode("aGk"));
out("base64Unpadded2", base64Decode("aGVsbG8gd29ybGQ"));

// JSON paths, over a string and over the same bytes.
const docs: Record<string, string> = { doc: ${JSON.stringify(DOC)}, doc2: ${JSON.stringify(DOC2)} };
const docBytes = base64Decode("${Buffer.from(DOC).toString("base64")}");
function jsonAll(prefix: string, doc: Data, paths: string[]): void {
  for (const p of paths) {
    out(prefix + "/get/" + p, jsonGet(doc, p));
    out(prefix + "/num/" + p, jsonGetNum(doc, p));
    out(prefix + "/bool/" + p, jsonGetBool(doc, p));
    out(prefix + "/str/" + p, jsonGetStr(doc, p));
    out(prefix + "/long/" + p, jsonGetLong(doc, p, -7));
  }
}
jsonAll("doc", docs.doc, ${JSON.stringify(PATHS)});
jsonAll("docBytes", docBytes, ${JSON.stringify(PATHS)});
jsonAll("doc2", docs.doc2, ${JSON.stringify(PATHS2)});
const bigDoc = JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => ({ id: i, name: "item " + i, tags: ["é", i % 2 === 0] })) });
out("big/length", bigDoc.length);
jsonAll("big", bigDoc, ["$.items[0].name", "$.items[1500].id", "$.items[1999].tags[1]", "$.items[1999].name", "$.items[2000]"]);
out("deep30", jsonGet("[".repeat(30) + "1" + "]".repeat(30), "$"));
out("deep31", jsonGet("[".repeat(31) + "1" + "]".repeat(31), "$"));
out("invalid", jsonGet('{"a":}', "$.a"));
out("invalidEmpty", jsonGet("", "$"));
out("longDefault", jsonGetLong('{"a":"x"}', "$.a"));
out("longNumber", jsonGetNum('{"a":0.' + "1".repeat(200) + '}', "$.a"));
out("notNumber", jsonGetNum('{"a":-}', "$.a"));
attempt("badPath", () => jsonGet(docs.doc, "name"));

// URLs.
for (const url of ${JSON.stringify(URLS)}) {
  out("url/" + url, { host: urlHost(url), port: urlPort(url), user: urlUser(url), pass: urlPass(url), uri: urlUri(url), ssl: urlIsSsl(url) });
}

// Matching and form variables.
for (const [text, pattern] of ${JSON.stringify(MATCHES.map(([t, p]) => [t, p]))}) out("match/" + text + "/" + pattern, match(text, pattern));
attempt("matchMany", () => match("x", "*".repeat(40)));
for (const name of ${JSON.stringify(HTTP_VARS.map(([n]) => n))}) {
  out("httpVar/" + name, httpVar(${JSON.stringify(FORM)}, name));
  out("httpVarBytes/" + name, httpVar(base64Decode("${Buffer.from(FORM).toString("base64")}"), name));
}
out("httpVarEmpty", httpVar("", "a"));

// Multipart bodies given as text.
function parts(body: Data | HttpMessage, boundary?: string): unknown {
  return httpParseMultipart(body, boundary).map((p) => ({ name: p.name, filename: p.filename ?? null, body: hex(p.body) }));
}
const mp = ${JSON.stringify(MULTIPART)};
out("multipart", parts(mp));
out("multipartBoundary", parts(mp, "xyz"));
out("multipartPreamble", parts("This is a preamble.\\r\\n--xyz-no\\r\\n" + mp, "xyz"));
out("multipartWrongBoundary", parts(mp, "abc"));
out("multipartEmpty", parts(""));
out("multipartGarbage", parts("no parts here"));

// Every prefix of what the parsers take apart, as bytes with nothing after
// them: each must answer (or throw a JavaScript error), never crash.
let cuts = 0;
const mpBytes = base64Decode("${Buffer.from(MULTIPART).toString("base64")}");
const form = base64Decode("${Buffer.from(FORM).toString("base64")}");
const b64 = base64Encode(bytes.odd), pct = encodeURIComponent(texts.unicode);
function survive(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof Error)) throw e;
  }
  cuts++;
}
for (let n = 0; n <= mpBytes.length; n++) {
  survive(() => httpParseMultipart(mpBytes.subarray(0, n)));
  survive(() => httpParseMultipart(mpBytes.subarray(0, n), "xyz"));
}
for (let n = 0; n <= docBytes.length; n++) {
  for (const p of ["$", "$.name", "$.escaped", "$.max", "$.list[3][1][0]", "$.nested.a.b.c"]) {
    survive(() => jsonGet(docBytes.subarray(0, n), p));
    survive(() => jsonGetStr(docBytes.subarray(0, n), p));
    survive(() => jsonGetNum(docBytes.subarray(0, n), p));
  }
}
for (let n = 0; n <= form.length; n++) survive(() => httpVar(form.subarray(0, n), "f"));
for (let n = 0; n <= b64.length; n++) survive(() => base64Decode(b64.slice(0, n)));
for (let n = 0; n <= pct.length; n++) survive(() => urlDecode(pct.slice(0, n)));
for (const [text, pattern] of ${JSON.stringify(MATCHES.map(([t, p]) => [t, p]))}) {
  for (let n = 0; n <= pattern.length; n++) survive(() => match(text, pattern.slice(0, n)));
  for (let n = 0; n <= text.length; n++) survive(() => match(text.slice(0, n), pattern));
}
out("cuts", cuts);

// Randomness, clock, log level.
const r1 = randomBytes(64), r2 = randomBytes(64);
out("random", { length: r1.length, differ: hex(r1) !== hex(r2), zero: randomBytes(0).length, some: randomBytes(4096).some((b) => b !== r1[0]) });
attempt("randomBad", () => randomBytes(-1));
const t0 = millis(), d0 = Date.now();
while (Date.now() - d0 < 60) {
  // spin: millis() must follow the wall clock
}
out("millis", { elapsed: millis() - t0, integer: Number.isInteger(t0) });
out("logInitial", logGet());
logSet(MG_LL_DEBUG);
out("logDebug", logGet());
attempt("logBad", () => logSet(9));
out("logAfterBad", logGet());
logSet(MG_LL_ERROR);

// The server: multipart uploads and JSON-RPC, over real HTTP.
const rpc = new JsonRpc();
let notes = 0;
rpc.add("sum", (params) => (params as number[]).reduce((a, b) => a + b, 0));
rpc.add("echo", (params, request) => ({ params: params ?? null, id: request.id ?? null }));
rpc.add("fail", () => {
  throw new Error("boom");
});
rpc.add("custom", () => {
  throw new JsonRpcError(-32001, "custom failure", { detail: 1 });
});
rpc.add("note", () => {
  notes++;
});
rpc.add("notes", () => notes);
rpc.add("sys.*", (_params, request) => "called " + request.method);
rpc.add("rpc.list", () => rpc.methods);

const mgr = new Manager((conn, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG || !(data instanceof HttpMessage)) return;
  if (data.uri === "/upload") {
    const got = httpParseMultipart(data);
    const auto = httpParseMultipart(data.body);
    conn.replyJson({
      parts: got.map((p) => ({ name: p.name, filename: p.filename ?? null, size: p.body.length, base64: base64Encode(p.body) })),
      autoSame: JSON.stringify(auto.map((p) => hex(p.body))) === JSON.stringify(got.map((p) => hex(p.body))),
    });
  } else if (data.uri === "/rpc") {
    const response = rpc.process(data.bodyText);
    if (response === undefined) conn.reply(204);
    else conn.reply(200, response, { "Content-Type": "application/json" });
  } else if (data.uri === "/log") {
    logSet(Number(data.queryVar("level")));
    conn.reply(200, String(logGet()));
  } else {
    conn.reply(404, "not found");
  }
});
mgr.listen("http://127.0.0.1:${port}");
console.log("ready");
mgr.run(10);
`;
}

// --- Node's side ---

type Line = { k: string; v?: unknown; hex?: string; undef?: boolean; err?: string; msg?: string };

function crc32(data: Buffer, initial = 0): number {
  const native = (zlib as unknown as { crc32?: (d: Buffer, v?: number) => number }).crc32;
  if (native) return native(data, initial);
  let crc = ~initial >>> 0;
  for (const b of data) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

// mongoose's urlEncode keeps only A-Z a-z 0-9 . _ - ~ and writes lowercase hex:
// encodeURIComponent, with !'()* escaped too and its hex lowercased.
function mgUrlEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16))
    .replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
}
function mgUrlEncodeBytes(data: Buffer): string {
  let s = "";
  for (const b of data) s += /[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : "%" + b.toString(16).padStart(2, "0");
  return s;
}

// A JSONPath of mongoose's kind ($, .key, [n]) evaluated on a parsed value.
function evalPath(value: unknown, path: string): { found: boolean; value?: unknown } {
  let cur: unknown = value;
  const steps = path.slice(1).match(/\.[^.[]+|\[\d+\]/g) ?? [];
  for (const step of steps) {
    if (step.startsWith(".")) {
      if (typeof cur !== "object" || cur === null || Array.isArray(cur) || !(step.slice(1) in cur)) return { found: false };
      cur = (cur as Record<string, unknown>)[step.slice(1)];
    } else {
      const i = Number(step.slice(1, -1));
      if (!Array.isArray(cur) || i >= cur.length) return { found: false };
      cur = cur[i];
    }
  }
  return { found: true, value: cur };
}

describe("mongoose utilities in the firmware", () => {
  let fw: Running;
  let port: number;
  const got = new Map<string, Line>();

  // The firmware's value for a key: a Buffer for bytes, undefined for undefined.
  function value(k: string): unknown {
    const line = got.get(k);
    if (!line) throw new Error(`the firmware printed nothing for ${k}`);
    if (line.err) throw new Error(`${k} threw ${line.err}: ${line.msg}`);
    if (line.undef) return undefined;
    if (line.hex !== undefined) return Buffer.from(line.hex, "hex");
    return line.v;
  }
  function thrown(k: string): { err: string; msg: string } {
    const line = got.get(k);
    if (!line) throw new Error(`the firmware printed nothing for ${k}`);
    if (!line.err) throw new Error(`${k} did not throw (gave ${JSON.stringify(line)})`);
    return { err: line.err, msg: line.msg ?? "" };
  }

  beforeAll(async () => {
    port = await freePort();
    const exe = buildApp(makeApp({
      "manifest.json": JSON.stringify({ modules: { "*": ["./main"] } }),
      "main.ts": firmware(port),
    }));
    fw = startFirmware(exe);
    // The sanitizer builds interpret several times slower.
    await fw.waitFor(/^ready$/, 90000);
    for (const line of fw.stdout().split("\n")) {
      if (!line.startsWith("{")) continue;
      const parsed = JSON.parse(line) as Line;
      got.set(parsed.k, parsed);
    }
  });
  afterAll(async () => {
    await fw?.stop();
  });

  const allInputs: Array<[string, Buffer]> = [
    ...Object.entries(TEXTS).map(([k, v]): [string, Buffer] => ["text." + k, Buffer.from(v, "utf8")]),
    ["text.joined", Buffer.from(JOINED, "utf8")],
    ...Object.entries(BYTES).map(([k, v]): [string, Buffer] => ["bytes." + k, v]),
    ["buffer.all", BYTES.all],
    ["view.noise", BYTES.noise.subarray(100, 1100)],
    ["wide.noise", BYTES.noise.subarray(200, 1200)],
  ];

  test("utf8 (mongoose/bytes) gives a string's UTF-8, U+0000 and surrogates included", () => {
    const texts = allInputs.filter(([name]) => name.startsWith("text."));
    expect(texts.length).toBeGreaterThan(3);
    for (const [name, data] of texts) expect([name, (value(`utf8/${name}`) as Buffer).toString("hex")]).toEqual([name, data.toString("hex")]);
  });

  test.each(["md5", "sha1", "sha256"])("%s matches crypto.createHash for every input", (algorithm) => {
    for (const [name, data] of allInputs) {
      expect([name, (value(`${algorithm}/${name}`) as Buffer).toString("hex")])
        .toEqual([name, crypto.createHash(algorithm).update(data).digest("hex")]);
    }
  });

  test("hmacSha256 matches crypto.createHmac for every key and input (a 64-byte key included)", () => {
    for (const [keyName, key] of Object.entries(HMAC_KEYS)) {
      for (const [name, data] of allInputs) {
        const k = `hmac/${keyName}/${name}`;
        expect([k, (value(k) as Buffer).toString("hex")]).toEqual([k, crypto.createHmac("sha256", key).update(data).digest("hex")]);
      }
    }
    expect((value("hmac/stringkey") as Buffer).toString("hex"))
      .toBe(crypto.createHmac("sha256", "key").update(TEXTS.ascii).digest("hex"));
  });

  test("base64Encode matches Buffer's base64; base64Decode gives the bytes back", () => {
    for (const [name, data] of allInputs) {
      expect([name, value(`base64/${name}`)]).toEqual([name, data.toString("base64")]);
      expect([name, (value(`unbase64/${name}`) as Buffer).equals(data)]).toEqual([name, true]);
    }
    expect((value("base64Unpadded") as Buffer).toString()).toBe("hi");
    expect((value("base64Unpadded2") as Buffer).toString()).toBe("hello world");
  });

  test("base64Decode refuses what is not base64, naming the problem", () => {
    expect(thrown('base64Bad/"abc*"')).toEqual({ err: "TypeError", msg: expect.stringContaining("invalid base64 character at offset 3") });
    expect(thrown('base64Bad/"A"')).toEqual({ err: "TypeError", msg: expect.stringContaining("invalid base64 length or padding") });
    expect(thrown('base64Bad/"AB=C"')).toEqual({ err: "TypeError", msg: expect.stringContaining("offset 3") });
    expect(thrown('base64Bad/" aGk="')).toEqual({ err: "TypeError", msg: expect.stringContaining("offset 0") });
    expect(thrown('base64Bad/"aGk==="').err).toBe("TypeError");
    expect(thrown('base64Bad/"===="').err).toBe("TypeError");
    expect(thrown('base64Bad/"aGk=\\n"').msg).toContain("offset 4");
  });

  test("crc32 matches zlib's CRC-32, continues from a previous value, and is unsigned", () => {
    for (const [name, data] of allInputs) expect([name, value(`crc32/${name}`)]).toEqual([name, crc32(data)]);
    expect(value("crc32chain")).toBe(crc32(BYTES.noise));
    expect(value("crc32init")).toBe(crc32(BYTES.odd, 0xffffffff));
    // unsigned: some of these are past 2^31 (and zlib's agree)
    expect(Math.max(...allInputs.map(([name]) => value(`crc32/${name}`) as number))).toBeGreaterThan(2 ** 31);
    expect(thrown("crc32bad").err).toBe("RangeError");
  });

  test("hex writes lowercase pairs for typed arrays and ArrayBuffers", () => {
    expect(value("hex")).toBe("00010f107f80ff");
    expect(value("hexbuffer")).toBe("deadbeef");
  });

  test("urlEncode is encodeURIComponent with only A-Z a-z 0-9 . _ - ~ kept, lowercase hex", () => {
    for (const [name, text] of Object.entries(TEXTS)) {
      if (name === "lone") continue;
      expect([name, value(`urlEncode/text.${name}`)]).toEqual([name, mgUrlEncode(text)]);
    }
    expect(value("urlEncode/text.lone")).toBe(mgUrlEncodeBytes(Buffer.from(TEXTS.lone)));
    for (const [name, data] of Object.entries(BYTES)) expect([name, value(`urlEncode/bytes.${name}`)]).toEqual([name, mgUrlEncodeBytes(data)]);
  });

  test("urlDecode undoes encodeURIComponent and urlEncode; form mode turns + into space", () => {
    for (const [name, text] of Object.entries(TEXTS)) {
      if (name === "lone") continue;
      expect([name, value(`urlDecode/${name}`)]).toEqual([name, decodeURIComponent(encodeURIComponent(text))]);
      expect([name, value(`urlRoundTrip/${name}`)]).toEqual([name, true]);
    }
    expect(value("urlDecodeForm")).toBe("a b+c d");
    expect(value("urlDecodePlain")).toBe("a+b+c d");
  });

  test("urlDecode throws a URIError where decodeURIComponent does", () => {
    for (const bad of ["%", "ab%4", "%zz", "x%e9", "%ed%a0%80", "%c0%80"]) {
      expect(() => decodeURIComponent(bad)).toThrow(URIError);
      expect([bad, thrown(`urlDecodeBad/${bad}`).err]).toEqual([bad, "URIError"]);
    }
    expect(thrown("urlDecodeBad/ab%4").msg).toContain('malformed %-escape "%4" at offset 2');
    expect(thrown("urlDecodeBad/%zz").msg).toContain('malformed %-escape "%zz" at offset 0');
    expect(thrown("urlDecodeBad/x%e9").msg).toContain("not UTF-8");
  });

  test("jsonGet* agree with JSON.parse on every path, over text and over bytes", () => {
    const docs: Array<[string, string, string[]]> = [["doc", DOC, PATHS], ["docBytes", DOC, PATHS], ["doc2", DOC2, PATHS2]];
    for (const [prefix, doc, paths] of docs) {
      const parsed = JSON.parse(doc);
      for (const p of paths) {
        const ref = evalPath(parsed, p);
        const raw = value(`${prefix}/get/${p}`);
        const where = `${prefix} ${p}`;
        if (!ref.found) {
          expect([where, raw]).toEqual([where, undefined]);
        } else {
          expect([where, JSON.parse(raw as string)]).toEqual([where, ref.value]);
        }
        const v = ref.value;
        expect([where, value(`${prefix}/num/${p}`)]).toEqual([where, typeof v === "number" ? v : undefined]);
        expect([where, value(`${prefix}/bool/${p}`)]).toEqual([where, typeof v === "boolean" ? v : undefined]);
        expect([where, value(`${prefix}/str/${p}`)]).toEqual([where, typeof v === "string" ? v : undefined]);
        expect([where, value(`${prefix}/long/${p}`)]).toEqual([where, typeof v === "number" ? Math.trunc(v) || 0 : -7]);
      }
    }
    // the raw text is the document's own, escapes and all
    expect(value("doc/get/$.list[2]")).toBe('{"three":3}');
    expect(value("doc2/get/$.s")).toBe('"\\u00e9\\u65e5\\ud83d\\ude00\\/\\b\\f"');
    expect(value("doc2/str/$.s")).toBe("é日😀/\b\f");
  });

  test("jsonGet* on a 100 KB document, and mongoose's limits: 30 levels, malformed text, a path without $", () => {
    const big = JSON.parse(JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => ({ id: i, name: "item " + i, tags: ["é", i % 2 === 0] })) }));
    expect(value("big/length")).toBeGreaterThan(70000);
    expect(value("big/str/$.items[0].name")).toBe(big.items[0].name);
    expect(value("big/num/$.items[1500].id")).toBe(1500);
    expect(value("big/bool/$.items[1999].tags[1]")).toBe(false);
    expect(value("big/str/$.items[1999].name")).toBe("item 1999");
    expect(value("big/get/$.items[2000]")).toBeUndefined();
    expect(value("big/long/$.items[2000]")).toBe(-7);
    expect(value("deep30")).toBe("[".repeat(30) + "1" + "]".repeat(30));
    expect(value("deep31")).toBeUndefined();  // MG_JSON_MAX_DEPTH
    expect(value("invalid")).toBeUndefined();
    expect(value("invalidEmpty")).toBeUndefined();
    expect(value("longDefault")).toBe(0);
    expect(value("longNumber")).toBeCloseTo(1 / 9, 12);  // past strtod's buffer: mongoose's own parser
    expect(value("notNumber")).toBeUndefined();
    expect(thrown("badPath")).toEqual({ err: "TypeError", msg: expect.stringContaining('must start with "$"') });
  });

  test("urlHost/Port/User/Pass/Uri/IsSsl agree with new URL (mongoose's default ports)", () => {
    const defaults: Record<string, number> = { "http:": 80, "ws:": 80, "https:": 443, "wss:": 443, "mqtt:": 1883, "mqtts:": 8883 };
    for (const url of URLS) {
      const u = new URL(url);
      const uri = u.pathname || "/";
      expect([url, value(`url/${url}`)]).toEqual([url, {
        host: u.hostname,
        port: u.port ? Number(u.port) : defaults[u.protocol] ?? 0,
        user: u.username,
        pass: u.password,
        uri: (uri.startsWith("/") ? uri : "/" + uri) + u.search + u.hash,
        ssl: ["https:", "wss:", "mqtts:"].includes(u.protocol),
      }]);
    }
  });

  test("match: ? is one character, * a run without /, # any run; captures in order", () => {
    for (const [text, pattern, captures] of MATCHES) {
      const k = `match/${text}/${pattern}`;
      expect([k, value(k)]).toEqual([k, captures ?? undefined]);
    }
    expect(thrown("matchMany").err).toBe("RangeError");
  });

  test("httpVar gives the raw value of a form variable, from text or bytes", () => {
    for (const [name, expected] of HTTP_VARS) {
      expect([name, value(`httpVar/${name}`)]).toEqual([name, expected ?? undefined]);
      expect([name, value(`httpVarBytes/${name}`)]).toEqual([name, expected ?? undefined]);
    }
    expect(value("httpVarEmpty")).toBeUndefined();
    // what urlDecode(value, true) then makes of it is what URLSearchParams does
    expect(new URLSearchParams(FORM).get("b")).toBe("hello world x");
  });

  test("httpParseMultipart parses text bodies, with or without a boundary, and skips a preamble", () => {
    const expected = [
      { name: "field", filename: null, body: Buffer.from("value one").toString("hex") },
      { name: "file", filename: "a.txt", body: Buffer.from("line1\r\n--not the boundary\r\nline2").toString("hex") },
    ];
    expect(value("multipart")).toEqual(expected);
    expect(value("multipartBoundary")).toEqual(expected);
    expect(value("multipartPreamble")).toEqual(expected);
    expect(value("multipartWrongBoundary")).toEqual([]);
    expect(value("multipartEmpty")).toEqual([]);
    expect(value("multipartGarbage")).toEqual([]);
  });

  test("every prefix of a multipart body, a JSON document, a form, base64 and %-text is handled", () => {
    expect(value("cuts")).toBeGreaterThan(2 * MULTIPART.length + 18 * DOC.length);
    expect(fw.stderr()).toBe("");
  });

  test("randomBytes, millis, logSet/logGet", () => {
    expect(value("random")).toEqual({ length: 64, differ: true, zero: 0, some: true });
    expect(thrown("randomBad").err).toBe("RangeError");
    const timing = value("millis") as { elapsed: number; integer: boolean };
    expect(timing.integer).toBe(true);
    expect(timing.elapsed).toBeGreaterThanOrEqual(55);
    expect(timing.elapsed).toBeLessThan(1000);
    expect(value("logInitial")).toBe(1);  // MG_LL_ERROR, set when the module loads
    expect(value("logDebug")).toBe(3);
    expect(thrown("logBad").err).toBe("RangeError");
    expect(value("logAfterBad")).toBe(3);
  });

  test("a multipart form posted by Node's fetch + FormData is parsed by the firmware", async () => {
    const file = Buffer.concat([BYTES.all, Buffer.from("\r\n--\r\n"), Buffer.from(noise(20000, 5))]);
    const form = new FormData();
    form.append("title", "héllo wörld — 😀");
    form.append("upload", new Blob([file], { type: "application/octet-stream" }), "données.bin");
    form.append("empty", "");
    const response = await fetch(`http://127.0.0.1:${port}/upload`, { method: "POST", body: form });
    expect(response.status).toBe(200);
    const body = await response.json() as { parts: Array<{ name: string; filename: string | null; size: number; base64: string }>; autoSame: boolean };
    expect(body.parts.map((p) => [p.name, p.filename, p.size])).toEqual([
      ["title", null, Buffer.byteLength("héllo wörld — 😀")],
      ["upload", "données.bin", file.length],
      ["empty", null, 0],
    ]);
    expect(Buffer.from(body.parts[0].base64, "base64").toString("utf8")).toBe("héllo wörld — 😀");
    expect(Buffer.from(body.parts[1].base64, "base64").equals(file)).toBe(true);
    expect(body.autoSame).toBe(true);
  });

  test("logSet changes what mongoose itself logs (to stderr)", async () => {
    const quiet = fw.stderr().length;
    expect(await (await fetch(`http://127.0.0.1:${port}/log?level=3`)).text()).toBe("3");
    expect(await (await fetch(`http://127.0.0.1:${port}/none`)).text()).toBe("not found");
    expect(await (await fetch(`http://127.0.0.1:${port}/log?level=1`)).text()).toBe("1");
    const settle = () => new Promise((resolve) => setTimeout(resolve, 300));  // stderr is its own pipe
    await settle();
    expect(fw.stderr().slice(quiet)).toMatch(/\S/);
    const after = fw.stderr().length;
    expect(await (await fetch(`http://127.0.0.1:${port}/none`)).text()).toBe("not found");
    await settle();
    expect(fw.stderr().slice(after)).toBe("");
  });

  describe("JSON-RPC over HTTP POST", () => {
    async function call(body: string): Promise<{ status: number; json: unknown }> {
      const response = await fetch(`http://127.0.0.1:${port}/rpc`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : undefined };
    }

    test("results, with the request's id (number, string, null)", async () => {
      expect(await call('{"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2,3.5]}'))
        .toEqual({ status: 200, json: { jsonrpc: "2.0", id: 1, result: 6.5 } });
      expect((await call('{"jsonrpc":"2.0","id":"abc","method":"echo","params":{"x":["é"]}}')).json)
        .toEqual({ jsonrpc: "2.0", id: "abc", result: { params: { x: ["é"] }, id: "abc" } });
      expect((await call('{"jsonrpc":"2.0","id":null,"method":"echo"}')).json)
        .toEqual({ jsonrpc: "2.0", id: null, result: { params: null, id: null } });
      expect((await call('{"id":7,"method":"sys.info"}')).json).toEqual({ jsonrpc: "2.0", id: 7, result: "called sys.info" });
      expect((await call('{"id":8,"method":"rpc.list"}')).json)
        .toEqual({ jsonrpc: "2.0", id: 8, result: ["sum", "echo", "fail", "custom", "note", "notes", "sys.*", "rpc.list"] });
    });

    test("errors: -32700 parse, -32600 invalid request, -32601 no method, -32603 a handler threw, custom codes", async () => {
      expect(await call("{not json")).toEqual({ status: 200, json: { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } } });
      expect((await call("42")).json).toMatchObject({ id: null, error: { code: -32600 } });
      expect((await call("[]")).json).toMatchObject({ id: null, error: { code: -32600 } });
      expect((await call('{"jsonrpc":"2.0","id":2,"method":5}')).json).toMatchObject({ id: 2, error: { code: -32600 } });
      expect((await call('{"jsonrpc":"1.0","id":3,"method":"sum","params":[]}')).json).toMatchObject({ id: 3, error: { code: -32600 } });
      expect((await call('{"id":{"x":1},"method":"sum","params":[]}')).json).toMatchObject({ id: null, error: { code: -32600 } });
      expect((await call('{"id":4,"method":"sum","params":5}')).json).toMatchObject({ id: 4, error: { code: -32600 } });
      expect((await call('{"jsonrpc":"2.0","id":5,"method":"nope"}')).json)
        .toEqual({ jsonrpc: "2.0", id: 5, error: { code: -32601, message: "Method not found: nope" } });
      expect((await call('{"jsonrpc":"2.0","id":6,"method":"fail"}')).json)
        .toEqual({ jsonrpc: "2.0", id: 6, error: { code: -32603, message: "boom" } });
      expect((await call('{"jsonrpc":"2.0","id":7,"method":"custom"}')).json)
        .toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32001, message: "custom failure", data: { detail: 1 } } });
    });

    test("notifications get no response; a batch gets one array with the answers only", async () => {
      const before = (await call('{"id":1,"method":"notes"}')).json as { result: number };
      expect(await call('{"jsonrpc":"2.0","method":"note"}')).toEqual({ status: 204, json: undefined });
      expect(await call('{"jsonrpc":"2.0","method":"fail"}')).toEqual({ status: 204, json: undefined });
      expect(await call('{"jsonrpc":"2.0","method":"missing"}')).toEqual({ status: 204, json: undefined });
      const batch = await call('[{"jsonrpc":"2.0","id":1,"method":"sum","params":[1,1]},{"jsonrpc":"2.0","method":"note"},' +
        '{"jsonrpc":"2.0","id":2,"method":"missing"},17,{"jsonrpc":"2.0","id":3,"method":"notes"}]');
      expect(batch.status).toBe(200);
      expect(batch.json).toEqual([
        { jsonrpc: "2.0", id: 1, result: 2 },
        { jsonrpc: "2.0", id: 2, error: { code: -32601, message: "Method not found: missing" } },
        { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request: not an object" } },
        { jsonrpc: "2.0", id: 3, result: before.result + 2 },
      ]);
      expect(await call('[{"jsonrpc":"2.0","method":"note"}]')).toEqual({ status: 204, json: undefined });
    });
  });
});
