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

// The decimal digits of v, a string that ends where end does.
static char* decimal(char* end, unsigned long v)
{
	*--end = 0;
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

static char* put(char* p, const char* s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

// Pieced together with memcpy: snprintf, three calls of it, cost more instructions
// than the rest of a small reply's way through the AsyncManager (callgrind,
// bench/http-async); the fixed pieces' lengths are constants, so that the compiler
// copies them inline, and only the reason and the header lines need a strlen.
#define PUT_LITERAL(p, text) put(p, text, sizeof(text) - 1)

char* xm_core_http_response(int status, const char* reason, const char* headers, const void* body, size_t size,
	bool chunked, size_t* total)
{
	char code[12], count[24];
	const char* digits = decimal(code + sizeof(code), (unsigned long)status);
	size_t ndigits = (size_t)(code + sizeof(code) - 1 - digits);
	// A chunked head has no Content-Length: strict clients refuse both.
	const char* length = chunked ? "" : decimal(count + sizeof(count), (unsigned long)size);
	size_t nlength = chunked ? 0 : (size_t)(count + sizeof(count) - 1 - length);
	if (!reason)
		reason = xm_core_http_reason(status);
	size_t nreason = strlen(reason), nheaders = strlen(headers);
	if (chunked)
		size = 0;
	size_t n = sizeof("HTTP/1.1 ") - 1 + ndigits + 1 + nreason + 2 + nheaders +
		(chunked ? 0 : sizeof("Content-Length: ") - 1 + nlength + 2) + 2;
	char* data = malloc(n + size + 1);  // + 1: a NUL after it (a chunked head is read as a C string)
	if (!data)
		return NULL;
	char* p = PUT_LITERAL(data, "HTTP/1.1 ");
	p = put(p, digits, ndigits);
	p = PUT_LITERAL(p, " ");
	p = put(p, reason, nreason);
	p = PUT_LITERAL(p, "\r\n");
	p = put(p, headers, nheaders);
	if (!chunked) {
		p = PUT_LITERAL(p, "Content-Length: ");
		p = put(p, length, nlength);
		p = PUT_LITERAL(p, "\r\n");
	}
	p = PUT_LITERAL(p, "\r\n");
	if (size)  // an empty body's pointer may be NULL
		memcpy(p, body, size);
	p[size] = 0;
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
