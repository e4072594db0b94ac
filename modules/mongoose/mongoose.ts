// SPDX-License-Identifier: MIT
// The mongoose module: `import { Manager, ... } from "mongoose"`.
export * from "mongoose/constants";
export { Connection } from "mongoose/connection";
export type { Address, Bytes, EventData, Handler, ServeOptions } from "mongoose/connection";
export type { Headers } from "mongoose/headers";
export { HttpMessage, WsMessage, MqttMessage } from "mongoose/messages";
export { Manager, Timer } from "mongoose/manager";
export type { ErrorHandler, ListenOptions, ManagerOptions, TimerOptions } from "mongoose/manager";
