// SPDX-License-Identifier: MIT
// The C functions of c/xm_mg_util.c. Only util.ts (and bytes.ts, for utf8) calls
// them; TypeScript cannot express `@ "c_name"`.
export function jsonGet(json, path) @ "xm_mg_util_json_get";
export function jsonGetNum(json, path) @ "xm_mg_util_json_get_num";
export function jsonGetBool(json, path) @ "xm_mg_util_json_get_bool";
export function jsonGetStr(json, path) @ "xm_mg_util_json_get_str";

export function urlEncode(data) @ "xm_mg_util_url_encode";
export function urlDecode(data, form) @ "xm_mg_util_url_decode";
export function urlHost(url) @ "xm_mg_util_url_host";
export function urlPort(url) @ "xm_mg_util_url_port";
export function urlUser(url) @ "xm_mg_util_url_user";
export function urlPass(url) @ "xm_mg_util_url_pass";
export function urlUri(url) @ "xm_mg_util_url_uri";
export function urlIsSsl(url) @ "xm_mg_util_url_is_ssl";

export function match(text, pattern) @ "xm_mg_util_match";
export function httpVar(buf, name) @ "xm_mg_util_http_var";
export function multipartStart(body, boundary) @ "xm_mg_util_multipart_start";
export function multipartNext(body, start, offset) @ "xm_mg_util_multipart_next";

export function md5(data) @ "xm_mg_util_md5";
export function sha1(data) @ "xm_mg_util_sha1";
export function sha256(data) @ "xm_mg_util_sha256";
export function hmacSha256(key, data) @ "xm_mg_util_hmac_sha256";
export function base64Encode(data) @ "xm_mg_util_base64_encode";
export function base64Decode(text) @ "xm_mg_util_base64_decode";
export function crc32(data, initial) @ "xm_mg_util_crc32";

export function randomBytes(n) @ "xm_mg_util_random_bytes";
export function millis() @ "xm_mg_util_millis";
export function logSet(level) @ "xm_mg_util_log_set";
export function logGet() @ "xm_mg_util_log_get";
export function utf8(value) @ "xm_mg_util_utf8";
