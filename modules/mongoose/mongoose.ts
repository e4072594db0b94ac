// SPDX-License-Identifier: MIT
// The mongoose module: `import { Manager, ... } from "mongoose"`.
export * from "mongoose/constants";
export { Connection } from "mongoose/connection";
export type { Address, EventData, Handler, ServeOptions } from "mongoose/connection";
export type { Bytes } from "mongoose/bytes";
export type { MqttConnectOptions, MqttPubOptions, MqttWill, AsyncMqttConnectOptions } from "mongoose/mqtt";
export type { TlsOptions } from "mongoose/tls";
export type { Headers } from "mongoose/headers";
export { HttpMessage, WsMessage, MqttMessage } from "mongoose/messages";
export {
  MQTT_CMD_CONNECT, MQTT_CMD_CONNACK, MQTT_CMD_PUBLISH, MQTT_CMD_PUBACK, MQTT_CMD_PUBREC, MQTT_CMD_PUBREL,
  MQTT_CMD_PUBCOMP, MQTT_CMD_SUBSCRIBE, MQTT_CMD_SUBACK, MQTT_CMD_UNSUBSCRIBE, MQTT_CMD_UNSUBACK,
  MQTT_CMD_PINGREQ, MQTT_CMD_PINGRESP, MQTT_CMD_DISCONNECT, MQTT_CMD_AUTH,
  MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, MQTT_PROP_CONTENT_TYPE,
  MQTT_PROP_RESPONSE_TOPIC, MQTT_PROP_CORRELATION_DATA, MQTT_PROP_SUBSCRIPTION_IDENTIFIER,
  MQTT_PROP_SESSION_EXPIRY_INTERVAL, MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, MQTT_PROP_SERVER_KEEP_ALIVE,
  MQTT_PROP_AUTHENTICATION_METHOD, MQTT_PROP_AUTHENTICATION_DATA, MQTT_PROP_REQUEST_PROBLEM_INFORMATION,
  MQTT_PROP_WILL_DELAY_INTERVAL, MQTT_PROP_REQUEST_RESPONSE_INFORMATION, MQTT_PROP_RESPONSE_INFORMATION,
  MQTT_PROP_SERVER_REFERENCE, MQTT_PROP_REASON_STRING, MQTT_PROP_RECEIVE_MAXIMUM, MQTT_PROP_TOPIC_ALIAS_MAXIMUM,
  MQTT_PROP_TOPIC_ALIAS, MQTT_PROP_MAXIMUM_QOS, MQTT_PROP_RETAIN_AVAILABLE, MQTT_PROP_USER_PROPERTY,
  MQTT_PROP_MAXIMUM_PACKET_SIZE, MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE,
  MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE,
} from "mongoose/messages";
export type { MqttProperty } from "mongoose/messages";
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
export type { ErrorHandler, HandlerOptions, ListenOptions, ManagerOptions, TimerOptions } from "mongoose/manager";
export { AsyncManager } from "mongoose/async-manager";
export type { AsyncErrorHandler, AsyncManagerOptions, AsyncTimer } from "mongoose/async-manager";
export { AsyncConnection } from "mongoose/async-connection";
export type { AsyncHandler } from "mongoose/async-connection";
export { AbortController, AbortSignal } from "mongoose/abort";
export { Request } from "mongoose/serve";
export type { ServeHandler, ServeResponse } from "mongoose/serve";
export { Response } from "mongoose/fetch";
export type { FetchOptions } from "mongoose/fetch";
