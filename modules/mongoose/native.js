// SPDX-License-Identifier: MIT
// The C functions of the mongoose binding (c/xm_mg_*.c). Only the TypeScript
// modules next to this file call them; TypeScript cannot express `@ "c_name"`.
export function register(manager, connection, http, ws, mqtt, timer) @ "xm_mg_register";

export function managerCreate(dispatch, enableWakeup) @ "xm_mg_manager_create";
export function managerPoll(manager, ms) @ "xm_mg_manager_poll";
export function managerRun(manager, pollMs, resolve) @ "xm_mg_manager_run";
export function managerClose(manager) @ "xm_mg_manager_close";
export function managerConnections(manager) @ "xm_mg_manager_connections";
export function managerWakeup(manager, id, data) @ "xm_mg_manager_wakeup";
export function managerWakeupId(manager) @ "xm_mg_manager_wakeup_id";
export function managerWakeupMax() @ "xm_mg_manager_wakeup_max";
export function managerClosed(manager) @ "xm_mg_manager_closed";
export function managerEvents(manager, mask) @ "xm_mg_manager_events";
export function managerListen(manager, url, http) @ "xm_mg_manager_listen";
export function managerConnect(manager, url, http) @ "xm_mg_manager_connect";
export function managerWsConnect(manager, url) @ "xm_mg_manager_ws_connect";
export function managerMqttListen(manager, url) @ "xm_mg_manager_mqtt_listen";
export function managerSntpConnect(manager, url) @ "xm_mg_manager_sntp_connect";

export function timerAdd(manager, ms, callback, repeat, runNow) @ "xm_mg_timer_add";
export function timerCancel(timer) @ "xm_mg_timer_cancel";
export function timerActive(timer) @ "xm_mg_timer_active";

export function connId(conn) @ "xm_mg_conn_id";
export function connFlags(conn) @ "xm_mg_conn_flags";
export function connBuffers(conn) @ "xm_mg_conn_buffers";
export function connAddr(conn, remote) @ "xm_mg_conn_addr";
export function connSend(conn, data) @ "xm_mg_conn_send";
export function connRecv(conn, max) @ "xm_mg_conn_recv";
export function connPeek(conn, which) @ "xm_mg_conn_peek";
export function connClose(conn) @ "xm_mg_conn_close";
export function connDrain(conn) @ "xm_mg_conn_drain";
export function connSetFull(conn, full) @ "xm_mg_conn_set_full";
export function connError(conn, message) @ "xm_mg_conn_error";
export function connResolve(conn, url) @ "xm_mg_conn_resolve";
export function connResolveCancel(conn) @ "xm_mg_conn_resolve_cancel";
export function connReply(conn, status, headerLines, body, reason, chunked) @ "xm_mg_conn_reply";
export function connHttpChunk(conn, data) @ "xm_mg_conn_http_chunk";
export function connServe(conn, msg, path, rootDir, extraHeaders, mimeTypes, page404) @ "xm_mg_conn_serve";
export function connBasicAuth(conn, user, pass) @ "xm_mg_conn_basic_auth";
export function connWsUpgrade(conn, msg, headerLines) @ "xm_mg_conn_ws_upgrade";
export function connWsSend(conn, data, op) @ "xm_mg_conn_ws_send";

export function hmField(msg, n) @ "xm_mg_hm_field";
export function hmHeaders(msg) @ "xm_mg_hm_headers";
export function hmHeader(msg, name) @ "xm_mg_hm_header";
export function hmBody(msg) @ "xm_mg_hm_body";
export function hmBodyText(msg) @ "xm_mg_hm_body_text";
export function hmVar(msg, name, fromBody) @ "xm_mg_hm_var";
export function hmStatus(msg) @ "xm_mg_hm_status";
export function hmCredentials(msg) @ "xm_mg_hm_credentials";

export function wmData(msg) @ "xm_mg_wm_data";
export function wmText(msg, offset) @ "xm_mg_wm_text";
export function wmFlags(msg) @ "xm_mg_wm_flags";
