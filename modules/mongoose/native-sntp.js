// SPDX-License-Identifier: MIT
// The C function of SNTP (c/xm_mg_sntp.c), for connection.ts only.
export function connSntpRequest(conn) @ "xm_mg_conn_sntp_request";
