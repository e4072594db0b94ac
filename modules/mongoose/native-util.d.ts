// SPDX-License-Identifier: MIT
// Types of native-util.js. Internal to the mongoose module: apps import "mongoose".
declare module "mongoose/native-util" {
  type Data = string | ArrayBufferLike | ArrayBufferView;

  export function jsonGet(json: Data, path: string): string | undefined;
  export function jsonGetNum(json: Data, path: string): number | undefined;
  export function jsonGetBool(json: Data, path: string): boolean | undefined;
  export function jsonGetStr(json: Data, path: string): string | undefined;

  export function urlEncode(data: Data): string;
  export function urlDecode(data: Data, form: boolean): string;
  export function urlHost(url: string): string;
  export function urlPort(url: string): number;
  export function urlUser(url: string): string;
  export function urlPass(url: string): string;
  export function urlUri(url: string): string;
  export function urlIsSsl(url: string): boolean;

  export function match(text: string, pattern: string): string[] | undefined;
  export function httpVar(buf: Data, name: string): string | undefined;
  export function multipartStart(body: Data, boundary: string): number;
  export function multipartNext(body: Data, start: number, offset: number): [number, string, string | undefined, Uint8Array] | undefined;

  export function md5(data: Data): Uint8Array;
  export function sha1(data: Data): Uint8Array;
  export function sha256(data: Data): Uint8Array;
  export function hmacSha256(key: Data, data: Data): Uint8Array;
  export function base64Encode(data: Data): string;
  export function base64Decode(text: Data): Uint8Array;
  export function crc32(data: Data, initial: number): number;

  export function randomBytes(n: number): Uint8Array;
  export function millis(): number;
  export function logSet(level: number): void;
  export function logGet(): number;
  export function utf8<T>(value: T): T | Uint8Array;
}
