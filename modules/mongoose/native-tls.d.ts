// SPDX-License-Identifier: MIT
// Types of native-tls.js. Internal to the mongoose module: apps import "mongoose".
declare module "mongoose/native-tls" {
  type Host = object;
  type Part = string | Uint8Array | ArrayBuffer | undefined;

  export function connTlsInit(conn: Host, ca: Part, cert: Part, key: Part, name: string | undefined, skipVerification: boolean): void;
  export function connTlsFree(conn: Host): void;
}
