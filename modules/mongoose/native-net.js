// SPDX-License-Identifier: MIT
// C functions of the binding's WebSocket close and networking extras
// (c/xm_mg_ws.c, c/xm_mg_net.c); only the TypeScript modules next to this call them.
export function connWsClose(conn, code, reason) @ "xm_mg_conn_ws_close";
export function managerDns(manager, url, timeoutMs) @ "xm_mg_manager_dns";
