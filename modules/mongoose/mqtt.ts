// SPDX-License-Identifier: MIT
// MQTT options, shaped once for both managers: Manager.mqttConnect and
// AsyncManager.mqttConnect take the same options, and both connections publish
// with the same ones.
import type { Handler } from "mongoose/connection";
import type { AsyncHandler } from "mongoose/async-connection";
import type { AbortSignal } from "mongoose/abort";
import type { MqttProperty } from "mongoose/messages";
import type { TlsOptions } from "mongoose/tls";

export interface MqttWill {
  topic: string;
  message: string | Uint8Array | ArrayBuffer;
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

export interface MqttConnectOptions {
  /** The connection's own handler (else the Manager's gets its events). */
  handler?: Handler;
  /** mongoose makes up a random one when empty. */
  clientId?: string;
  username?: string;
  password?: string;
  /** Default true. */
  cleanSession?: boolean;
  /**
   * Seconds; default 0 (the broker never drops us for silence). mongoose sends no
   * PINGREQ by itself: with a keepalive, call mqttPing() more often than that.
   */
  keepalive?: number;
  /** 4 (MQTT 3.1.1, the default) or 5. */
  version?: 4 | 5;
  /** The message the broker publishes when the connection drops without mqttDisconnect(). */
  will?: MqttWill;
}

/** What AsyncManager.mqttConnect takes: the Manager's options, and when to give up. */
export interface AsyncMqttConnectOptions extends Omit<MqttConnectOptions, "handler"> {
  /** Gets every event of the connection, MQTT_OPEN included. */
  handler?: AsyncHandler;
  /** Milliseconds until the broker's CONNACK (default 30000). */
  timeout?: number;
  signal?: AbortSignal;
  /** For mqtts://: see AsyncManager.connect. */
  tls?: TlsOptions;
}

export interface MqttPubOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** MQTT 5 only (mqttConnect with version: 5). */
  properties?: MqttProperty[];
}

/** The arguments after the URL of both managers' native MQTT connect, defaults applied. */
export function mqttConnectArgs(options: Omit<MqttConnectOptions, "handler">) {
  const will = options.will;
  return [options.clientId, options.username, options.password, options.cleanSession ?? true,
    options.keepalive ?? 0, options.version ?? 4, will?.topic, will?.message, will?.qos ?? 0, will?.retain ?? false] as const;
}

/** Plain copies of MQTT properties: the native side then reads data, never getters. */
export function plainProperties(properties: MqttProperty[] | undefined): MqttProperty[] | undefined {
  return properties?.map(({ id, value, key }) => (key === undefined ? { id, value } : { id, value, key }));
}
