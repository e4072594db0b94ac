// SPDX-License-Identifier: MIT
// Types of native-async.js. Internal to the mongoose module.
declare module "mongoose/native-async" {
  type Host = object;
  type Bytes = string | ArrayBuffer | ArrayBufferView;
  /** Called once per event: (connection id, event, data, flags or status, number, "local|remote" or undefined, request). */
  type Dispatch = (conn: number, ev: number, data: unknown, value: number, number: number, addrs: string | undefined, request: number) => void;
  export function create(dispatch: Dispatch, pollMs: number, commandQueueLength: number | undefined): Host;
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
  export function chunk(am: Host, conn: number, data: Bytes, request: number): void;
  export function reply(am: Host, conn: number, status: number, headerLines: string, body: Bytes, request: number, chunked: boolean): void;
  export function close(am: Host, conn: number, drain: boolean, request: number): void;
  export function wsUpgrade(am: Host, conn: number, msg: object, headerLines: string, request: number): void;
  export function wakeup(am: Host, conn: number, data?: Bytes): void;
  export function stall(am: Host, ms: number): void;
  /** As MqttProperty (messages.ts): the C reader takes plain objects. */
  interface Property {
    id: number;
    value: number | string | Uint8Array;
    key?: string;
  }
  export function mqttConnect(am: Host, url: string, clientId: string | undefined, user: string | undefined,
    pass: string | undefined, clean: boolean, keepalive: number, version: number, willTopic: string | undefined,
    willMessage: Bytes | undefined, willQos: number, willRetain: boolean, request: number): void;
  export function mqttPub(am: Host, conn: number, topic: string, message: Bytes, qos: number, retain: boolean,
    properties: Property[] | undefined, request: number): void;
  /** qos undefined: UNSUBSCRIBE. */
  export function mqttSub(am: Host, conn: number, topic: string, qos: number | undefined, request: number): void;
  /** cmd: MQTT_CMD_PINGREQ, MQTT_CMD_PINGRESP or MQTT_CMD_DISCONNECT. */
  export function mqttControl(am: Host, conn: number, cmd: number, request: number): void;
  export function mqttHeader(am: Host, conn: number, cmd: number, flags: number, length: number, request: number): void;
  export function sntpRequest(am: Host, conn: number, request: number): void;
}
