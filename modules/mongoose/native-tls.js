// SPDX-License-Identifier: MIT
// C functions of TLS on a connection (c/xm_mg_tls.c); only connection.ts calls them.
export function connTlsInit(conn, ca, cert, key, name, skipVerification) @ "xm_mg_conn_tls_init";
export function connTlsFree(conn) @ "xm_mg_conn_tls_free";
