// SPDX-License-Identifier: MIT
// mongoose's event, WebSocket opcode and log level numbers (mongoose.h, 7.x).

export const MG_EV_ERROR = 0;
export const MG_EV_OPEN = 1;
export const MG_EV_POLL = 2;
export const MG_EV_RESOLVE = 3;
export const MG_EV_CONNECT = 4;
export const MG_EV_ACCEPT = 5;
export const MG_EV_TLS_HS = 6;
export const MG_EV_READ = 7;
export const MG_EV_WRITE = 8;
export const MG_EV_CLOSE = 9;
export const MG_EV_HTTP_HDRS = 10;
export const MG_EV_HTTP_MSG = 11;
export const MG_EV_WS_OPEN = 12;
export const MG_EV_WS_MSG = 13;
export const MG_EV_WS_CTL = 14;
export const MG_EV_MQTT_CMD = 15;
export const MG_EV_MQTT_MSG = 16;
export const MG_EV_MQTT_OPEN = 17;
export const MG_EV_SNTP_TIME = 18;
export const MG_EV_WAKEUP = 19;
export const MG_EV_USER = 20;

const EVENT_NAMES = [
  "MG_EV_ERROR", "MG_EV_OPEN", "MG_EV_POLL", "MG_EV_RESOLVE", "MG_EV_CONNECT", "MG_EV_ACCEPT",
  "MG_EV_TLS_HS", "MG_EV_READ", "MG_EV_WRITE", "MG_EV_CLOSE", "MG_EV_HTTP_HDRS", "MG_EV_HTTP_MSG",
  "MG_EV_WS_OPEN", "MG_EV_WS_MSG", "MG_EV_WS_CTL", "MG_EV_MQTT_CMD", "MG_EV_MQTT_MSG",
  "MG_EV_MQTT_OPEN", "MG_EV_SNTP_TIME", "MG_EV_WAKEUP",
];

/** The constant's name for an event number ("MG_EV_USER+n" for user events). */
export function eventName(ev: number): string {
  if (ev >= MG_EV_USER) return `MG_EV_USER+${ev - MG_EV_USER}`;
  return EVENT_NAMES[ev] ?? `MG_EV_${ev}`;
}

export const WEBSOCKET_OP_CONTINUE = 0;
export const WEBSOCKET_OP_TEXT = 1;
export const WEBSOCKET_OP_BINARY = 2;
export const WEBSOCKET_OP_CLOSE = 8;
export const WEBSOCKET_OP_PING = 9;
export const WEBSOCKET_OP_PONG = 10;

export const MG_LL_NONE = 0;
export const MG_LL_ERROR = 1;
export const MG_LL_INFO = 2;
export const MG_LL_DEBUG = 3;
export const MG_LL_VERBOSE = 4;
