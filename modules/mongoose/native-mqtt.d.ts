// SPDX-License-Identifier: MIT
// Types of native-mqtt.js. Internal to the mongoose module: apps import "mongoose".
declare module "mongoose/native-mqtt" {
  type Host = object;
  type Bytes = string | ArrayBuffer | ArrayBufferView;
  /** As C reads it: user properties have a key; binary ones a Uint8Array value. */
  interface Property {
    id: number;
    value: number | string | Uint8Array;
    key?: string;
  }

  export function managerMqttConnect(manager: Host, url: string, clientId: string | undefined,
    user: string | undefined, pass: string | undefined, clean: boolean, keepalive: number, version: number,
    willTopic: string | undefined, willMessage: Bytes | undefined, willQos: number, willRetain: boolean): Host;

  export function connMqttPub(conn: Host, topic: string, message: Bytes, qos: number, retain: boolean,
    properties: Property[] | undefined): number;
  export function connMqttSub(conn: Host, topic: string, qos: number): number;
  export function connMqttUnsub(conn: Host, topic: string): number;
  export function connMqttPing(conn: Host): void;
  export function connMqttPong(conn: Host): void;
  export function connMqttDisconnect(conn: Host): void;
  export function connMqttSendHeader(conn: Host, cmd: number, flags: number, length: number): void;

  export function mmTopic(msg: Host): string;
  export function mmData(msg: Host, asText: false): Uint8Array;
  export function mmData(msg: Host, asText: true): string;
  export function mmPacket(msg: Host): Uint8Array;
  /** 0 id, 1 cmd, 2 qos, 3 ack, 4 the fixed header's flags */
  export function mmField(msg: Host, n: 0 | 1 | 2 | 3 | 4): number;
  export function mmProperties(msg: Host): Property[];
}
