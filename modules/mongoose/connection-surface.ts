// SPDX-License-Identifier: MIT
// What Connection (the Manager's) and AsyncConnection have in common, written
// once: the flags, and the methods that only shape their arguments for a primitive
// each front end implements. Connection calls C at once (Done is void, Id a
// number); AsyncConnection queues a command for the poll task (promises of those).
// No instance fields: the Manager's connections are objects made by C, whose
// constructors never run.
import { MQTT_CMD_DISCONNECT, MQTT_CMD_PINGREQ, MQTT_CMD_PINGRESP } from "mongoose/constants";
import type { MqttProperty } from "mongoose/messages";
import { plainProperties, type MqttPubOptions } from "mongoose/mqtt";
import type { Bytes } from "mongoose/bytes";
import type { Headers } from "mongoose/headers";
import * as wire from "mongoose/wire";

export abstract class ConnectionSurface<Done extends void | Promise<void>, Id extends number | Promise<number>> {
  /** The flag bits, as C packs them. */
  protected abstract _flags(): number;

  get isListening(): boolean { return (this._flags() & wire.XM_MG_FLAG_LISTENING) !== 0; }
  /** True once close() was called or mongoose is closing it (and after it is gone). */
  get isClosing(): boolean { return (this._flags() & wire.XM_MG_FLAG_CLOSING) !== 0; }
  get isClient(): boolean { return (this._flags() & wire.XM_MG_FLAG_CLIENT) !== 0; }
  get isAccepted(): boolean { return (this._flags() & wire.XM_MG_FLAG_ACCEPTED) !== 0; }
  get isTls(): boolean { return (this._flags() & wire.XM_MG_FLAG_TLS) !== 0; }
  get isUdp(): boolean { return (this._flags() & wire.XM_MG_FLAG_UDP) !== 0; }
  get isWebsocket(): boolean { return (this._flags() & wire.XM_MG_FLAG_WEBSOCKET) !== 0; }
  get isReadable(): boolean { return (this._flags() & wire.XM_MG_FLAG_READABLE) !== 0; }
  get isWritable(): boolean { return (this._flags() & wire.XM_MG_FLAG_WRITABLE) !== 0; }
  get isFull(): boolean { return (this._flags() & wire.XM_MG_FLAG_FULL) !== 0; }
  get isDraining(): boolean { return (this._flags() & wire.XM_MG_FLAG_DRAINING) !== 0; }

  /** A complete HTTP response; binary-safe, Content-Length is set for you. */
  abstract reply(status: number, body?: Bytes, headers?: Headers): Done;
  /** One chunk of a chunked response (after sending "Transfer-Encoding: chunked" headers); "" ends it. */
  abstract httpChunk(data: Bytes): Done;
  /** Sends an MQTT fixed header; send() the length bytes that follow (for mqttListen servers). */
  abstract mqttSendHeader(cmd: number, flags: number, length: number): Done;
  /** PUBLISH with the options applied. */
  protected abstract _mqttPub(topic: string, message: Bytes, qos: number, retain: boolean,
    properties: MqttProperty[] | undefined): Id;
  /** SUBSCRIBE, or UNSUBSCRIBE when qos is undefined. */
  protected abstract _mqttSub(topic: string, qos: number | undefined): Id;
  /** A packet that is its fixed header only: PINGREQ, PINGRESP or DISCONNECT. */
  protected abstract _mqttControl(cmd: number): Done;

  replyJson(value: unknown, status = 200, headers?: Headers): Done {
    return this.reply(status, JSON.stringify(value) ?? "null", { "Content-Type": "application/json", ...headers });
  }
  /** One server-sent event, as a chunk of a text/event-stream response. */
  httpSse(event: string, data: string): Done {
    if (/[\r\n]/.test(event)) throw new TypeError("an SSE event name cannot contain CR or LF");
    const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join("");
    return this.httpChunk(`event: ${event}\n${lines}\n`);
  }

  /**
   * Publishes; gives the packet id (0 for QoS 0). The broker's PUBACK (QoS 1) or
   * PUBREC (QoS 2, mongoose completes the exchange) arrives as MQTT_CMD with that id;
   * mongoose does not resend, even when no acknowledgement comes.
   */
  mqttPub(topic: string, message: Bytes, options: MqttPubOptions = {}): Id {
    return this._mqttPub(topic, message, options.qos ?? 0, options.retain ?? false, plainProperties(options.properties));
  }
  /** Subscribes to a topic filter; gives the packet id, which the SUBACK (MQTT_CMD) carries. */
  mqttSub(topic: string, qos: 0 | 1 | 2 = 0): Id {
    return this._mqttSub(topic, qos);
  }
  /** Unsubscribes from a topic filter; gives the packet id, which the UNSUBACK carries. */
  mqttUnsub(topic: string): Id {
    return this._mqttSub(topic, undefined);
  }
  /** Sends PINGREQ; the broker's PINGRESP arrives as MQTT_CMD. */
  mqttPing(): Done {
    return this._mqttControl(MQTT_CMD_PINGREQ);
  }
  /** Sends PINGRESP (a server's answer to PINGREQ, for mqttListen). */
  mqttPong(): Done {
    return this._mqttControl(MQTT_CMD_PINGRESP);
  }
  /** Sends DISCONNECT: the broker then drops the will. close() after it. */
  mqttDisconnect(): Done {
    return this._mqttControl(MQTT_CMD_DISCONNECT);
  }
}
