// SPDX-License-Identifier: MIT
// Bytes on the TypeScript side: what data arguments may be, a string's UTF-8, and
// the WebSocket close payload the AsyncManager still builds here (the Manager's is in C).
import * as nativeUtil from "mongoose/native-util";

/** Data to send: a string goes as its UTF-8 bytes. */
export type Bytes = string | Uint8Array | ArrayBuffer;

/**
 * The UTF-8 bytes of text. The engine keeps most strings as their UTF-8; C
 * (c/core/text.c) converts the others (U+0000, a surrogate pair made by
 * concatenation; a lone surrogate becomes U+FFFD).
 */
export const utf8: (text: string) => Uint8Array = nativeUtil.utf8;

export function concat(parts: Array<Uint8Array | ArrayBufferView>): Uint8Array {
  const views = parts.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength)));
  if (views.length === 1) return views[0];
  const out = new Uint8Array(views.reduce((n, v) => n + v.length, 0));
  let at = 0;
  for (const v of views) {
    out.set(v, at);
    at += v.length;
  }
  return out;
}

/** The payload of a WebSocket close frame, for both managers: the code, then the reason's UTF-8. */
export function wsClosePayload(code: number, reason: string): Uint8Array {
  if (!Number.isInteger(code) || code < 1000 || code > 4999)
    throw new RangeError(`WebSocket close code must be an integer in 1000..4999, got ${code}`);
  const text = utf8(reason);
  if (text.length > 123) throw new RangeError(`a WebSocket close reason is at most 123 bytes, got ${text.length}`);
  return concat([new Uint8Array([code >> 8, code & 0xff]), text]);
}
