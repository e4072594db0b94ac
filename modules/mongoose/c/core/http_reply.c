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

// Pieced together with strlen and memcpy: snprintf, three calls of it, cost more
// instructions than the rest of a small reply's way through the AsyncManager
// (callgrind, bench/http-async).
char* xm_core_http_response(int status, const char* reason, const char* headers, const void* body, size_t size,
	bool chunked, size_t* total)
{
	char code[12], count[24];
	// A chunked head has no Content-Length: strict clients refuse both.
	const char* parts[] = { "HTTP/1.1 ", decimal(code + sizeof(code), (unsigned long)status), " ",
		reason ? reason : xm_core_http_reason(status), "\r\n", headers, chunked ? "" : "Content-Length: ",
		chunked ? "" : decimal(count + sizeof(count), (unsigned long)size), chunked ? "" : "\r\n", "\r\n" };
	enum { PARTS = sizeof(parts) / sizeof(parts[0]) };
	size_t lengths[PARTS], n = 0;
	for (size_t i = 0; i < PARTS; i++)
		n += lengths[i] = strlen(parts[i]);
	if (chunked)
		size = 0;
	char* data = malloc(n + size + 1);  // + 1: a NUL after it (a chunked head is read as a C string)
	if (!data)
		return NULL;
	char* p = data;
	for (size_t i = 0; i < PARTS; i++) {
		memcpy(p, parts[i], lengths[i]);
		p += lengths[i];
	}
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
