// SPDX-License-Identifier: MIT
// Types of native.js. Internal to the mongoose module: apps import "mongoose".
declare module "mongoose/native" {
  type Host = object;
  type Bytes = string | ArrayBuffer | ArrayBufferView;
  type Dispatch = (conn: Host, ev: number, data: unknown) => boolean;

  export function register(manager: object, connection: object, http: object, ws: object, mqtt: object, timer: object): void;

  export function managerCreate(dispatch: Dispatch, enableWakeup: boolean): Host;
  export function managerPoll(manager: Host, ms: number): void;
  /** Registers the Manager with the runtime's loop; resolve is called once it leaves (close, stop). */
  export function managerRun(manager: Host, pollMs: number, resolve: () => void): void;
  export function managerClose(manager: Host): void;
  export function managerConnections(manager: Host): Host[];
  export function managerWakeup(manager: Host, id: number, data?: Bytes): boolean;
  export function managerWakeupId(manager: Host): number;
  export function managerWakeupMax(): number;
  export function managerClosed(manager: Host): boolean;
  /** The events (bit ev) the next connection opened calls its handler for. */
  export function managerEvents(manager: Host, mask: number): void;
  export function managerListen(manager: Host, url: string, http: boolean): Host;
  export function managerConnect(manager: Host, url: string, http: boolean): Host;
  export function managerWsConnect(manager: Host, url: string): Host;
  export function managerMqttListen(manager: Host, url: string): Host;
  export function managerSntpConnect(manager: Host, url: string): Host;

  export function timerAdd(manager: Host, ms: number, callback: () => void, repeat: boolean, runNow: boolean): Host;
  export function timerCancel(timer: Host): void;
  export function timerActive(timer: Host): boolean;

  export function connId(conn: Host): number;
  export function connFlags(conn: Host): number;
  export function connBuffers(conn: Host): [number, number, number, number];
  export function connAddr(conn: Host, remote: boolean): { address: string; port: number; family: "IPv4" | "IPv6" } | undefined;
  export function connSend(conn: Host, data: Bytes): boolean;
  export function connRecv(conn: Host, max: number): Uint8Array;
  export function connPeek(conn: Host, which: 0 | 1): Uint8Array;
  export function connClose(conn: Host): void;
  export function connDrain(conn: Host): void;
  export function connSetFull(conn: Host, full: boolean): void;
  export function connError(conn: Host, message: string): void;
  export function connResolve(conn: Host, url: string): void;
  export function connResolveCancel(conn: Host): void;
  export function connReply(conn: Host, status: number, headerLines: string, body: Bytes, reason?: string, chunked?: boolean): void;
  export function connHttpChunk(conn: Host, data: Bytes): void;
  export function connServe(conn: Host, msg: Host, path: string | undefined, rootDir: string | undefined,
    extraHeaders: string | undefined, mimeTypes: string | undefined, page404: string | undefined): void;
  export function connBasicAuth(conn: Host, user: string, pass: string): void;
  export function connWsUpgrade(conn: Host, msg: Host, headerLines: string): void;
  export function connWsSend(conn: Host, data: Bytes, op: number): number;

  export function hmField(msg: Host, n: 0 | 1 | 2 | 3 | 4): string;
  export function hmHeaders(msg: Host): Array<[string, string]>;
  export function hmHeader(msg: Host, name: string): string | undefined;
  export function hmBody(msg: Host): Uint8Array;
  export function hmBodyText(msg: Host): string;
  export function hmVar(msg: Host, name: string, fromBody: boolean): string | undefined;
  export function hmStatus(msg: Host): number;
  export function hmCredentials(msg: Host): [string, string] | undefined;

  export function wmData(msg: Host): Uint8Array;
  export function wmText(msg: Host, offset: number): string;
  export function wmFlags(msg: Host): number;
}
