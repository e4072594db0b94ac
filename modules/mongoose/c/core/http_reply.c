// SPDX-License-Identifier: MIT
// HTTP responses as both front ends frame them: binary-safe (mongoose's
// mg_http_reply formats the body as a C string), with Content-Length, or a
// chunked response's head (its body goes in chunks, mg_http_write_chunk).
#include <stdlib.h>
#include <string.h>
#include "xm_core.h"

const char* xm_core_http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

// Decimal digits of n, at the end of the buffer ending at end; returns the first.
static char* decimal(char* end, size_t n)
{
	do
		*--end = (char)('0' + n % 10);
	while (n /= 10);
	return end;
}

static char* put(char* p, const void* s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

// Framed with memcpy: snprintf's format parsing was most of a reply's cost (callgrind).
char* xm_core_http_response(int status, const char* reason, const char* headers, const void* body, size_t size,
	bool chunked, size_t* total)
{
	static const char version[] = "HTTP/1.1 ", length_name[] = "Content-Length: ";
	char code[24], length[24];
	char* code_at = decimal(code + sizeof(code), (size_t)status);
	char* length_at = decimal(length + sizeof(length), size);
	size_t code_len = (size_t)(code + sizeof(code) - code_at), length_len = (size_t)(length + sizeof(length) - length_at);
	if (chunked)
		size = 0;  // a chunked head has no Content-Length: strict clients refuse both
	if (!reason)
		reason = xm_core_http_reason(status);
	size_t reason_len = strlen(reason), headers_len = strlen(headers);
	size_t n = sizeof(version) - 1 + code_len + 1 + reason_len + 2 + headers_len
		+ (chunked ? 0 : sizeof(length_name) - 1 + length_len + 2) + 2;
	char* data = malloc(n + size + 1);  // + 1: a NUL after it (a chunked head is a C string)
	if (!data)
		return NULL;
	char* p = put(data, version, sizeof(version) - 1);
	p = put(p, code_at, code_len);
	p = put(p, " ", 1);
	p = put(p, reason, reason_len);
	p = put(p, "\r\n", 2);
	p = put(p, headers, headers_len);
	if (!chunked) {
		p = put(p, length_name, sizeof(length_name) - 1);
		p = put(p, length_at, length_len);
		p = put(p, "\r\n", 2);
	}
	p = put(p, "\r\n", 2);
	if (size)
		memcpy(p, body, size);
	p[size] = '\0';
	*total = n + size;
	return data;
}

void xm_core_http_500(struct mg_connection* c)
{
	static const char text[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
		"Content-Length: 22\r\n\r\nInternal Server Error\n";
	mg_send(c, text, sizeof(text) - 1);
	c->is_resp = 0;  // answered: mongoose may parse the next request on this connection
}
