// SPDX-License-Identifier: MIT
// The mongoose module: `import { Manager, ... } from "mongoose"`.
export * from "mongoose/constants";
export { Connection } from "mongoose/connection";
export type { Address, EventData, Handler, ServeOptions } from "mongoose/connection";
export type { Bytes } from "mongoose/bytes";
export type { MqttConnectOptions, MqttPubOptions, MqttWill, AsyncMqttConnectOptions } from "mongoose/mqtt";
export type { TlsOptions } from "mongoose/tls";
export type { Headers } from "mongoose/headers";
// The message classes, MqttProperty and the MQTT_CMD_* and MQTT_PROP_* numbers.
export * from "mongoose/messages";
export { Manager, Timer, WAKEUP_MAX_BYTES } from "mongoose/manager";
export {
  jsonGet, jsonGetNum, jsonGetBool, jsonGetLong, jsonGetStr, urlEncode, urlDecode, urlHost, urlPort, urlUser,
  urlPass, urlUri, urlIsSsl, match, httpVar, httpParseMultipart, md5, sha1, sha256, hmacSha256, hex,
  base64Encode, base64Decode, crc32, randomBytes, millis, logSet, logGet,
} from "mongoose/util";
export type { Data, MultipartPart } from "mongoose/util";
export {
  JsonRpc, JsonRpcError, JSONRPC_PARSE_ERROR, JSONRPC_INVALID_REQUEST, JSONRPC_METHOD_NOT_FOUND,
  JSONRPC_INVALID_PARAMS, JSONRPC_INTERNAL_ERROR,
} from "mongoose/jsonrpc";
export type { JsonRpcHandler, JsonRpcId, JsonRpcRequest } from "mongoose/jsonrpc";
export type { ConnectOptions, ErrorHandler, HandlerOptions, ListenLimits, ListenOptions, ManagerOptions, TimerOptions } from "mongoose/manager";
export { AsyncManager } from "mongoose/async-manager";
export type { AsyncErrorHandler, AsyncManagerOptions, AsyncTimer } from "mongoose/async-manager";
export { AsyncConnection } from "mongoose/async-connection";
export type { AsyncHandler } from "mongoose/async-connection";
export { AbortController, AbortSignal } from "mongoose/abort";
export { Request } from "mongoose/serve";
export type { ServeHandler, ServeResponse } from "mongoose/serve";
export { Response } from "mongoose/fetch";
export type { FetchOptions } from "mongoose/fetch";
export type { SntpOptions, SyncClockOptions } from "mongoose/clock";
export { topicFilterFault, topicMatches, topicNameFault } from "mongoose/mqtt-topic";
// Types only: the client's code is in the image only for a firmware that imports "mongoose/mqtt-client".
export type { MqttClient, MqttClientEvents, MqttClientOptions, MqttEndOptions, MqttPublishOptions } from "mongoose/mqtt-client";
export type { MqttSubscription } from "mongoose/mqtt-subscription";
// Types only: the broker is linked in by `import "mongoose/mqtt-broker"` (AsyncManager.mqttBroker).
export type { MqttBroker, BrokerMessage, MqttBrokerOptions, MqttClientInfo } from "mongoose/mqtt-broker";
