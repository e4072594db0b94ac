// SPDX-License-Identifier: MIT
// mongoose's utilities the engine lacks: JSON paths, URL coding and parsing,
// glob matching, form variables, multipart bodies, digests, base64, CRC-32,
// randomness, the clock and the log level. They touch no manager.
//
// Arguments that are strings or buffers live in the XS heap, which may move
// when anything allocates: each function reads its arguments first, creates
// its result, then fetches the argument again to copy from it.
#include <ctype.h>
#include <stdlib.h>
#include "xm_args.h"

#define MAX_CAPTURES 32

static xsIntegerValue chunk_size(xsMachine* the, size_t n)
{
	if (n > 0x7ffffff0)
		xsRangeError("result too large (%lu bytes)", (unsigned long)n);
	return (xsIntegerValue)n;
}

// A string of bytes [ofs, ofs + len) of argument i, invalid UTF-8 replaced.
static void arg_text(xsMachine* the, xsSlot* result, int i, size_t ofs, size_t len)
{
	bool xs = xsTypeOf(xsArg(i)) == xsStringType;
	struct mg_str s = xm_mg_arg_bytes(the, i);
	size_t size = xm_core_text_size(s.buf + ofs, len, false, xs);
	*result = xsStringBuffer(NULL, chunk_size(the, size));
	s = xm_mg_arg_bytes(the, i);
	xm_core_text_fill(xsToString(*result), s.buf + ofs, len, xs);
}

// A Uint8Array with a copy of bytes [ofs, ofs + len) of argument i.
static void arg_copy(xsMachine* the, xsSlot* result, int i, size_t ofs, size_t len)
{
	*result = xsArrayBuffer(NULL, chunk_size(the, len));
	struct mg_str s = xm_mg_arg_bytes(the, i);
	if (len)
		memcpy(xsToArrayBuffer(*result), s.buf + ofs, len);
	*result = xsNew1(xsGlobal, xsID("Uint8Array"), *result);
}

// utf8(text): a copy of the bytes the prologue read, the engine's own when they
// are UTF-8, else converted (c/core/text.c).
void xm_mg_util_utf8(xsMachine* the)
{
	arg_copy(the, &xsResult, 0, 0, xm_mg_util_utf8_in(the).text.len);
}

// The (json, path) arguments, as xm_args.h read them: the path must start with "$".
static void json_check(xsMachine* the, struct mg_str json, const char* path)
{
	if (path[0] != '$')
		xsTypeError("JSON path must start with \"$\": \"%.60s\"", path);
	if (json.len > 0x7fffffff)
		xsRangeError("JSON text too large");
}

// mg_json_get on (json, path): the offset of the value, negative when absent or malformed.
static int json_find(xsMachine* the, struct mg_str json, const char* path, int* len)
{
	json_check(the, json, path);
	return mg_json_get(json, path, len);
}

// jsonGet(json, path): the raw text of the value, or undefined
void xm_mg_util_json_get(xsMachine* the)
{
	xm_mg_util_json_get_in_t a = xm_mg_util_json_get_in(the);
	int len = 0, ofs = json_find(the, a.json, a.path, &len);
	if (ofs >= 0)
		arg_text(the, &xsResult, 0, (size_t)ofs, (size_t)len);
}

// jsonGetNum(json, path): parsed with strtod, which rounds correctly (mongoose's
// own parser sums digits and drifts in the last bits); it is the fallback for
// numbers too long for the buffer.
void xm_mg_util_json_get_num(xsMachine* the)
{
	xm_mg_util_json_get_num_in_t a = xm_mg_util_json_get_num_in(the);
	int len = 0, ofs = json_find(the, a.json, a.path, &len);
	if (ofs < 0)
		return;
	const char* s = a.json.buf + ofs;
	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return;
	char number[128];
	double value;
	if ((size_t)len < sizeof(number)) {
		memcpy(number, s, (size_t)len);
		number[len] = 0;
		char* end;
		value = strtod(number, &end);
		if (end != number + len)
			return;
	} else if (!mg_json_get_num(a.json, a.path, &value)) {
		return;
	}
	xsResult = xsNumber(value);
}

void xm_mg_util_json_get_bool(xsMachine* the)
{
	xm_mg_util_json_get_bool_in_t a = xm_mg_util_json_get_bool_in(the);
	json_check(the, a.json, a.path);
	bool value;
	if (mg_json_get_bool(a.json, a.path, &value))
		xsResult = xsBoolean(value);
}

// jsonGetStr(json, path): the unescaped string, or undefined (not a string, bad escape)
void xm_mg_util_json_get_str(xsMachine* the)
{
	xm_mg_util_json_get_str_in_t a = xm_mg_util_json_get_str_in(the);
	struct mg_str json = a.json;
	int len = 0, ofs = json_find(the, json, a.path, &len);
	if (ofs < 0 || len < 2 || json.buf[ofs] != '"')
		return;
	size_t size = xm_core_json_unescape(json.buf + ofs + 1, (size_t)len - 2, NULL);
	if (size == XM_CORE_TEXT_BAD)
		return;
	xsResult = xsStringBuffer(NULL, chunk_size(the, size));
	json = xm_mg_arg_bytes(the, 0);
	char* to = xsToString(xsResult);
	xm_core_json_unescape(json.buf + ofs + 1, (size_t)len - 2, to);
	to[size] = 0;
}

static bool url_safe(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		c == '.' || c == '_' || c == '-' || c == '~';
}

// urlEncode(data): every byte but A-Z a-z 0-9 . _ - ~ as %xx (lowercase hex, as mongoose writes it)
void xm_mg_util_url_encode(xsMachine* the)
{
	struct mg_str s = xm_mg_util_url_encode_in(the).data;
	size_t size = 0;
	for (size_t i = 0; i < s.len; i++)
		size += url_safe((unsigned char)s.buf[i]) ? 1 : 3;
	// mg_url_encode stops 4 bytes short of the buffer's end: give it that room.
	xsResult = xsStringBuffer(NULL, chunk_size(the, size + 4));
	s = xm_mg_arg_bytes(the, 0);
	char* to = xsToString(xsResult);
	size_t n = mg_url_encode(s.buf, s.len, to, size + 5);
	to[n] = 0;
}

// urlDecode(text, form): throws a URIError on a bad escape or on bytes that are not UTF-8
void xm_mg_util_url_decode(xsMachine* the)
{
	xm_mg_util_url_decode_in_t a = xm_mg_util_url_decode_in(the);
	struct mg_str s = a.data;
	for (size_t i = 0; i < s.len; i++) {
		if (s.buf[i] == '%' && !(i + 2 < s.len && isxdigit((unsigned char)s.buf[i + 1]) && isxdigit((unsigned char)s.buf[i + 2])))
			xsURIError("malformed %%-escape \"%.*s\" at offset %lu", (int)(s.len - i < 3 ? s.len - i : 3),
				s.buf + i, (unsigned long)i);
	}
	char* bytes = malloc(s.len + 1);
	if (!bytes)
		xsUnknownError("no memory to decode %lu bytes", (unsigned long)s.len);
	// Cannot fail: the escapes are checked above as mongoose checks them, and bytes has room.
	size_t n = (size_t)mg_url_decode(s.buf, s.len, bytes, s.len + 1, a.form);
	size_t size = xm_core_text_size(bytes, n, true, false);
	if (size == XM_CORE_TEXT_BAD) {
		free(bytes);
		xsURIError("the %%-decoded bytes are not UTF-8 text");
	}
	xsResult = xsStringBuffer(NULL, chunk_size(the, size));
	xm_core_text_fill(xsToString(xsResult), bytes, n, false);
	free(bytes);
}

// urlPart(url, part): 0 host, 1 user, 2 password (strings, "" when mongoose
// found none), 3 port (the scheme's default without one), 4 whether TLS, 5 the
// URI: from the first "/" after the host to the end ("/" when there is none).
void xm_mg_util_url_part(xsMachine* the)
{
	xm_mg_util_url_part_in_t a = xm_mg_util_url_part_in(the);
	const char* url = a.url;
	struct mg_str part;
	switch (a.part) {
	case 0: part = mg_url_host(url); break;
	case 1: part = mg_url_user(url); break;
	case 2: part = mg_url_pass(url); break;
	case 3: xsResult = xsInteger(mg_url_port(url)); return;
	case 4: xsResult = xsBoolean(mg_url_is_ssl(url) != 0); return;
	default:  // 5: the prologue checked 0..5
		part = mg_str(mg_url_uri(url));
		if (!(part.buf >= url && part.buf <= url + strlen(url))) {
			xsResult = xsString(part.buf);
			return;
		}
	}
	arg_text(the, &xsResult, 0, part.len ? (size_t)(part.buf - url) : 0, part.len);
}

// match(text, pattern): [captures...] when mg_match matches, else undefined
void xm_mg_util_match(xsMachine* the)
{
	xm_mg_util_match_in_t a = xm_mg_util_match_in(the);
	size_t wildcards = 0, plen = strlen(a.pattern);
	for (size_t i = 0; i < plen; i++)
		wildcards += a.pattern[i] == '*' || a.pattern[i] == '#' || a.pattern[i] == '?';
	if (wildcards > MAX_CAPTURES)
		xsRangeError("match pattern has more than %d wildcards", MAX_CAPTURES);
	// mongoose steps one past the last capture, and back one when it backtracks:
	// a spare slot at each end.
	struct mg_str slots[MAX_CAPTURES + 2], *caps = slots + 1;
	memset(slots, 0, sizeof(slots));
	if (!mg_match(mg_str(a.text), mg_str_n(a.pattern, plen), caps))
		return;
	size_t ofs[MAX_CAPTURES], len[MAX_CAPTURES];
	for (size_t i = 0; i < wildcards; i++) {
		ofs[i] = caps[i].buf ? (size_t)(caps[i].buf - a.text) : 0;
		len[i] = caps[i].buf ? caps[i].len : 0;
	}
	xsVars(1);
	xsResult = xsNewArray(0);
	for (size_t i = 0; i < wildcards; i++) {
		arg_text(the, &xsVar(0), 0, ofs[i], len[i]);
		xsSetIndex(xsResult, (xsIntegerValue)i, xsVar(0));
	}
}

// httpVar(buf, name): the raw (not URL-decoded) value of a form variable, or undefined
void xm_mg_util_http_var(xsMachine* the)
{
	xm_mg_util_http_var_in_t a = xm_mg_util_http_var_in(the);
	struct mg_str value = mg_http_var(a.buf, mg_str(a.name));
	if (value.buf)
		arg_text(the, &xsResult, 0, (size_t)(value.buf - a.buf.buf), value.len);
}

// The offset of the first "--boundary" line (or closing "--boundary--") in body, or body.len.
static size_t boundary_line(struct mg_str body, const char* boundary)
{
	const char* s = body.buf;
	size_t blen = strlen(boundary);
	for (size_t i = 0; i + blen + 4 <= body.len; i++) {
		size_t end = i + 2 + blen;
		if ((i == 0 || (i >= 2 && s[i - 2] == '\r' && s[i - 1] == '\n')) && s[i] == '-' && s[i + 1] == '-' &&
				memcmp(s + i + 2, boundary, blen) == 0 &&
				((s[end] == '\r' && s[end + 1] == '\n') || (s[end] == '-' && s[end + 1] == '-')))
			return i;
	}
	return body.len;
}

// multipart(body, boundary): [[name, filename | undefined, body], ...]. Without a
// boundary, mongoose takes the body's first line as the boundary line; with one,
// mg_http_next_multipart is given the body from its first line on, as it
// compares each delimiter with the body's first bytes.
void xm_mg_util_multipart(xsMachine* the)
{
	xm_mg_util_multipart_in_t a = xm_mg_util_multipart_in(the);
	size_t start = a.boundary ? boundary_line(a.body, a.boundary) : 0, next = 0;
	xsVars(2);
	xsResult = xsNewArray(0);
	for (xsIntegerValue n = 0;; n++) {
		struct mg_str body = xm_mg_arg_bytes(the, 0);  // again: the last part's copies may have moved it
		struct mg_http_part part;
		next = mg_http_next_multipart(mg_str_n(body.buf + start, body.len - start), next, &part);
		if (!next)
			return;
		// Offsets into the argument: the pointers go stale once anything allocates
		// (only whether they are NULL is read after).
		struct mg_str fields[3] = { part.name, part.filename, part.body };
		size_t at[3];
		for (int i = 0; i < 3; i++)
			at[i] = fields[i].buf ? (size_t)(fields[i].buf - body.buf) : 0;
		xsVar(0) = xsNewArray(3);
		for (int i = 0; i < 2; i++) {
			if (fields[i].buf)
				arg_text(the, &xsVar(1), 0, at[i], fields[i].len);
			else
				xsVar(1) = i == 0 ? xsString("") : xsUndefined;
			xsSetIndex(xsVar(0), i, xsVar(1));
		}
		arg_copy(the, &xsVar(1), 0, at[2], fields[2].len);
		xsSetIndex(xsVar(0), 2, xsVar(1));
		xsSetIndex(xsResult, n, xsVar(0));
	}
}

// digest(data, algorithm): 0 MD5, 1 SHA-1, 2 SHA-256
void xm_mg_util_digest(xsMachine* the)
{
	xm_mg_util_digest_in_t a = xm_mg_util_digest_in(the);
	const unsigned char* data = (const unsigned char*)a.data.buf;
	unsigned char digest[32];
	static const uint8_t sizes[] = { 16, 20, 32 };
	if (a.algorithm == 0) {
		mg_md5_ctx ctx;
		mg_md5_init(&ctx);
		mg_md5_update(&ctx, data, a.data.len);
		mg_md5_final(&ctx, digest);
	} else if (a.algorithm == 1) {
		mg_sha1_ctx ctx;
		mg_sha1_init(&ctx);
		mg_sha1_update(&ctx, data, a.data.len);
		mg_sha1_final(digest, &ctx);
	} else {
		mg_sha256(digest, (uint8_t*)a.data.buf, a.data.len);
	}
	xm_mg_new_bytes(the, &xsResult, digest, sizes[a.algorithm]);
}

// hmacSha256(key, data): RFC 2104 over mongoose's SHA-256. Not mg_hmac_sha256:
// it hashes a key of exactly 64 bytes (7.23 still tests keysz < 64), which
// RFC 2104 uses as it is.
void xm_mg_util_hmac_sha256(xsMachine* the)
{
	xm_mg_util_hmac_sha256_in_t a = xm_mg_util_hmac_sha256_in(the);
	struct mg_str key = a.key, data = a.data;
	unsigned char block[64] = { 0 }, pad[64], digest[32];
	mg_sha256_ctx ctx;
	if (key.len > sizeof(block))
		mg_sha256(block, (uint8_t*)key.buf, key.len);
	else if (key.len)
		memcpy(block, key.buf, key.len);
	for (int outer = 0; outer < 2; outer++) {  // SHA-256(key ^ opad, SHA-256(key ^ ipad, data))
		for (size_t i = 0; i < sizeof(pad); i++)
			pad[i] = block[i] ^ (outer ? 0x5c : 0x36);
		mg_sha256_init(&ctx);
		mg_sha256_update(&ctx, pad, sizeof(pad));
		mg_sha256_update(&ctx, outer ? digest : (const unsigned char*)data.buf, outer ? sizeof(digest) : data.len);
		mg_sha256_final(digest, &ctx);
	}
	xm_mg_new_bytes(the, &xsResult, digest, sizeof(digest));
}

void xm_mg_util_base64_encode(xsMachine* the)
{
	struct mg_str s = xm_mg_util_base64_encode_in(the).data;
	size_t size = (s.len + 2) / 3 * 4;
	xsResult = xsStringBuffer(NULL, chunk_size(the, size));
	s = xm_mg_arg_bytes(the, 0);
	char* to = xsToString(xsResult);
	size_t n = mg_base64_encode((const unsigned char*)s.buf, s.len, to, size + 1);
	to[n] = 0;
}

static bool base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// base64Decode(text): the standard alphabet; "=" padding may be left out.
// mg_base64_decode is lenient (it skips a short tail, takes "=" mid-text), so
// the text is checked here first.
void xm_mg_util_base64_decode(xsMachine* the)
{
	struct mg_str s = xm_mg_util_base64_decode_in(the).text;
	size_t data = 0;
	while (data < s.len && base64_char(s.buf[data]))
		data++;
	size_t padding = 0;
	while (data + padding < s.len && s.buf[data + padding] == '=')
		padding++;
	if (data + padding < s.len)
		xsTypeError("invalid base64 character at offset %lu", (unsigned long)(data + padding));
	if (data % 4 == 1 || padding > 2 || (padding && (data + padding) % 4))
		xsTypeError("invalid base64 length or padding (%lu characters)", (unsigned long)s.len);
	size_t padded = (data + 3) / 4 * 4, cap = padded / 4 * 3 + 1;
	char* text = malloc(padded + cap);
	if (!text)
		xsUnknownError("no memory to decode %lu bytes of base64", (unsigned long)s.len);
	char* bytes = text + padded;
	memcpy(text, s.buf, data);
	memset(text + data, '=', padded - data);
	size_t n = mg_base64_decode(text, padded, bytes, cap);
	xm_mg_new_bytes(the, &xsResult, bytes, n);
	free(text);
}

// crc32(data, initial): mongoose's CRC-32 (zlib's); pass a previous result to continue it
void xm_mg_util_crc32(xsMachine* the)
{
	xm_mg_util_crc32_in_t a = xm_mg_util_crc32_in(the);
	uint32_t initial = (uint32_t)xm_mg_whole(the, a.initial, 4294967295.0, "crc32 initial value");
	xsResult = xsNumber((double)mg_crc32(initial, a.data.buf, a.data.len));
}

void xm_mg_util_random_bytes(xsMachine* the)
{
	size_t n = (size_t)xm_mg_whole(the, xm_mg_util_random_bytes_in(the).n, 1048576, "randomBytes size");
	xsResult = xsArrayBuffer(NULL, (xsIntegerValue)n);
	if (n)
		mg_random(xsToArrayBuffer(xsResult), n);
	xsResult = xsNew1(xsGlobal, xsID("Uint8Array"), xsResult);
}

void xm_mg_util_millis(xsMachine* the)
{
	xsResult = xsNumber((double)mg_millis());
}

void xm_mg_util_log_set(xsMachine* the)
{
	mg_log_set((int)xm_mg_whole(the, xm_mg_util_log_set_in(the).level, MG_LL_VERBOSE, "log level"));
}

void xm_mg_util_log_get(xsMachine* the)
{
	xsResult = xsInteger(mg_log_level);
}
