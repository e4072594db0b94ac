// SPDX-License-Identifier: MIT
// The AsyncManager's C functions (c/xm_am_xs.c); only async-manager.ts and
// async-connection.ts call them.
export function create(dispatch, pollMs, commandQueueLength) @ "xm_am_create";
export function start(am) @ "xm_am_start";
export function stop(am) @ "xm_am_stop";
export function finish(am, abandon) @ "xm_am_finish";
export function activity(am) @ "xm_am_activity";
export function open(am, listen, url, kind, request, ca, cert, key, name, skipVerification) @ "xm_am_open";
export function send(am, conn, data, request, wsOp) @ "xm_am_send";
export function chunk(am, conn, data, request) @ "xm_am_chunk";
export function reply(am, conn, status, headerLines, body, request, chunked) @ "xm_am_reply";
export function close(am, conn, drain, request) @ "xm_am_close";
export function wsUpgrade(am, conn, msg, headerLines, request) @ "xm_am_ws_upgrade";
export function wakeup(am, conn, data) @ "xm_am_wakeup";
export function stall(am, ms) @ "xm_am_stall";
export function mqttConnect(am, url, clientId, user, pass, clean, keepalive, version,
  willTopic, willMessage, willQos, willRetain, request) @ "xm_am_mqtt_connect";
export function mqttPub(am, conn, topic, message, qos, retain, properties, request) @ "xm_am_mqtt_pub";
export function mqttSub(am, conn, topic, qos, request) @ "xm_am_mqtt_sub";
export function mqttControl(am, conn, cmd, request) @ "xm_am_mqtt_control";
export function mqttHeader(am, conn, cmd, flags, length, request) @ "xm_am_mqtt_header";
export function sntpRequest(am, conn, request) @ "xm_am_sntp_request";
