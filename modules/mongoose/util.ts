// SPDX-License-Identifier: MIT
// mongoose's utilities, for what the XS engine lacks: JSON paths over text that
// need not be parsed whole, URL coding, glob matching, form and multipart
// bodies, digests, base64, CRC-32, randomness, the clock and the log level.
// `Data` arguments are strings (taken as their UTF-8 bytes) or binary buffers.
import * as native from "mongoose/native-util";
import { HttpMessage } from "mongoose/messages";
import { bindNativeOnce } from "mongoose/manager";

export type Data = string | ArrayBufferLike | ArrayBufferView;

// The natives take `Data` as it is: they read a string as its UTF-8, and a view
// of wider elements as its bytes (c/xm_mg_args.c).

// --- JSON (mg_json_get): paths like "$", "$.a.b", "$.list[2].name" ---

/** The raw JSON text of the value at path ('"x"' for a string), or undefined. */
export const jsonGet: (json: Data, path: string) => string | undefined = native.jsonGet;
/** The number at path, or undefined when absent or not a number. */
export const jsonGetNum: (json: Data, path: string) => number | undefined = native.jsonGetNum;
/** The boolean at path, or undefined when absent or not a boolean. */
export const jsonGetBool: (json: Data, path: string) => boolean | undefined = native.jsonGetBool;
/** The number at path truncated toward zero, else `dflt` (mg_json_get_long, without C long's range). */
export function jsonGetLong(json: Data, path: string, dflt = 0): number {
  const n = native.jsonGetNum(json, path);
  return n === undefined ? dflt : Math.trunc(n) || 0;  // a long has no -0
}
/** The string at path with its escapes decoded (all of \uXXXX, surrogate pairs too), or undefined. */
export const jsonGetStr: (json: Data, path: string) => string | undefined = native.jsonGetStr;

// --- URLs ---

/**
 * Percent-encodes every byte of the UTF-8 text except A-Z a-z 0-9 . _ - ~, in
 * lowercase hex as mongoose does ("a b" -> "a%20b").
 */
export const urlEncode: (text: Data) => string = native.urlEncode;
/**
 * Decodes %xx escapes (and "+" as space when `form`); throws a URIError on a
 * malformed escape or when the result is not UTF-8.
 */
export const urlDecode: (text: Data, form?: boolean) => string = native.urlDecode;
/** "example.com" of "http://user:pw@example.com:8080/x" ("[::1]" for IPv6). */
export const urlHost = (url: string): string => native.urlPart(url, 0);
/** The explicit port, else the scheme's default (http/ws 80, https/wss 443, mqtt 1883, mqtts 8883), else 0. */
export const urlPort = (url: string): number => native.urlPart(url, 3);
/** The user name before "@", or "". */
export const urlUser = (url: string): string => native.urlPart(url, 1);
/** The password before "@", or "". */
export const urlPass = (url: string): string => native.urlPart(url, 2);
/** Everything from the path on, query and fragment included ("/" when there is no path). */
export const urlUri = (url: string): string => native.urlPart(url, 5);
/** Whether the scheme is a TLS one (https, wss, mqtts, ssl, tls, tcps). */
export const urlIsSsl = (url: string): boolean => native.urlPart(url, 4);

// --- Matching ---

/**
 * mongoose's glob match (mg_match) of the whole text: `?` is any one
 * character, `*` any run of characters without "/", `#` any run including "/";
 * every other character matches itself. Returns what each wildcard matched,
 * in order, or undefined when the text does not match.
 * `match("GET /users/42", "GET /users/*")` gives `["42"]`; `match("a/b/c.txt", "#.txt")`
 * gives `["a/b/c"]`; `match("a/b", "*")` gives undefined.
 */
export const match: (text: string, pattern: string) => string[] | undefined = native.match;

// --- Forms and multipart bodies ---

/**
 * The raw value of `name` in "a=1&b=2" form text (not URL-decoded: use
 * urlDecode(value, true)), or undefined. Names compare case-insensitively.
 */
export const httpVar: (buf: Data, name: string) => string | undefined = native.httpVar;

export interface MultipartPart {
  /** The form field's name ("" when the part has none). */
  name: string;
  /** The uploaded file's name; undefined for a plain field. */
  filename: string | undefined;
  body: Uint8Array;
}

// The boundary parameter of a multipart Content-Type header.
function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const at = contentType.toLowerCase().indexOf("boundary=");
  if (at < 0) return undefined;
  let value = contentType.slice(at + 9);
  if (value.startsWith('"')) {
    const end = value.indexOf('"', 1);
    return end > 0 ? value.slice(1, end) : undefined;
  }
  const end = value.indexOf(";");
  if (end >= 0) value = value.slice(0, end);
  return value.trim() || undefined;
}

/**
 * The parts of a multipart/form-data body (mg_http_next_multipart). Pass an
 * HttpMessage to use its body and its Content-Type's boundary. Without a
 * boundary, mongoose takes the body's first line as the boundary line, so a
 * body with a preamble needs one.
 */
export function httpParseMultipart(body: Data | HttpMessage, boundary?: string): MultipartPart[] {
  if (body instanceof HttpMessage) {
    boundary ??= boundaryOf(body.header("Content-Type"));
    body = body.body;
  }
  return native.multipart(body, boundary).map(([name, filename, part]) => ({ name, filename, body: part }));
}

// --- Digests, encodings, checksums ---

/** MD5 digest (16 bytes). */
export const md5 = (data: Data): Uint8Array => native.digest(data, 0);
/** SHA-1 digest (20 bytes). */
export const sha1 = (data: Data): Uint8Array => native.digest(data, 1);
/** SHA-256 digest (32 bytes). */
export const sha256 = (data: Data): Uint8Array => native.digest(data, 2);
/** HMAC-SHA-256 (RFC 2104) of data under key (32 bytes). */
export const hmacSha256: (key: Data, data: Data) => Uint8Array = native.hmacSha256;

const HEX = "0123456789abcdef";

/** Lowercase hex of bytes. */
export function hex(data: ArrayBufferLike | ArrayBufferView): string {
  const view = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
  let text = "";
  for (let i = 0; i < view.length; i++) text += HEX[view[i] >> 4] + HEX[view[i] & 15];
  return text;
}

/** Standard base64 with "=" padding. */
export const base64Encode: (data: Data) => string = native.base64Encode;
/** Decodes standard base64 (padding optional); throws a TypeError on anything else (whitespace too). */
export const base64Decode: (text: Data) => Uint8Array = native.base64Decode;
/** CRC-32 as zlib computes it, unsigned; pass the previous result as `initial` to continue over more data. */
export const crc32: (data: Data, initial?: number) => number = native.crc32;

// --- Randomness, clock, log ---

/** n bytes from the platform's random source (/dev/urandom, the ESP32's RNG); n up to 1 MiB. */
export const randomBytes: (n: number) => Uint8Array = native.randomBytes;
/** Milliseconds since boot, monotonic. */
export const millis: () => number = native.millis;
/** mongoose's own log verbosity: MG_LL_NONE ... MG_LL_VERBOSE (MG_LL_ERROR at start). It goes to stderr. */
export function logSet(level: number): void {
  bindNativeOnce();  // which sets MG_LL_ERROR: first, or it would undo this
  native.logSet(level);
}
export function logGet(): number {
  bindNativeOnce();
  return native.logGet();
}
