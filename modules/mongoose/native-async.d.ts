// SPDX-License-Identifier: MIT
// Types of native-async.js. Internal to the mongoose module.
declare module "mongoose/native-async" {
  type Host = object;
  type Bytes = string | ArrayBuffer | ArrayBufferView;
  /** Called once per event: (connection id, event, data, flags or status, number, "local|remote" or undefined, request). */
  type Dispatch = (conn: number, ev: number, data: unknown, value: number, number: number, addrs: string | undefined, request: number) => void;
  export function create(dispatch: Dispatch, pollMs: number, commandQueueLength: number): Host;
  export function start(am: Host): void;
  export function stop(am: Host): void;
  export function finish(am: Host, abandon: boolean): void;
  export function activity(am: Host): string;
  type TlsPart = string | Uint8Array | undefined;
  /** kind: 0 raw, 1 HTTP, 2 WebSocket (connect only). With the TLS options (all five), the connection speaks TLS. */
  export function open(am: Host, listen: boolean, url: string, kind: number, request: number): void;
  export function open(am: Host, listen: boolean, url: string, kind: number, request: number,
    ca: TlsPart, cert: TlsPart, key: TlsPart, name: string | undefined, skipVerification: boolean): void;
  export function send(am: Host, conn: number, data: Bytes, request: number, wsOp: number): void;
  export function reply(am: Host, conn: number, status: number, headerLines: string, body: Bytes, request: number): void;
  export function close(am: Host, conn: number, drain: boolean, request: number): void;
  export function wsUpgrade(am: Host, conn: number, msg: object, headerLines: string, request: number): void;
  export function wakeup(am: Host, conn: number, data?: Bytes): void;
  export function stall(am: Host, ms: number): void;
}
