// SPDX-License-Identifier: MIT
// HTTP responses (framed by core/http_reply.c) and static files.
#include "xm_mg.h"
#include "xm_args.h"

char* xm_mg_http_response(xsMachine* the, int status, xsSlot* body_slot, xsSlot* reason_slot, xsSlot* header_lines,
	bool chunked, struct mg_str* body, size_t* total)
{
	if (status < 100 || status > 999)
		xsRangeError("HTTP status %d is not between 100 and 999", status);
	*body = mg_str_n("", 0);
	if (body_slot)
		xm_mg_bytes(the, body_slot, (const void**)&body->buf, &body->len);  // may allocate: take the string pointers after it
	const char* reason = reason_slot && xsTypeOf(*reason_slot) == xsStringType ? xsToString(*reason_slot) : NULL;
	char* response = xm_core_http_response(status, reason, header_lines ? xsToString(*header_lines) : "", body->buf,
		body->len, chunked, total);
	if (!response)
		xsUnknownError("no memory for the response");
	return response;
}

// The response sent on c; a chunked one's body goes as its first chunk.
static void send_reply(xsMachine* the, struct mg_connection* c, int status, xsSlot* body_slot, xsSlot* reason_slot,
	xsSlot* header_lines, bool chunked)
{
	struct mg_str body;
	size_t total;
	char* response = xm_mg_http_response(the, status, body_slot, reason_slot, header_lines, chunked, &body, &total);
	mg_send(c, response, total);
	free(response);
	if (chunked && body.len)
		mg_http_write_chunk(c, body.buf, body.len);
	else if (!chunked)
		c->is_resp = 0;  // complete: mongoose parses a kept-alive connection's next request only then
}

// reply(conn, status, headerLines, body, reason, chunked): headerLines is
// "Name: value\r\n"..., checked by the caller for CR, LF and NUL, and so is the
// optional reason. A chunked reply sends its body (if any) as the first chunk and
// leaves the response open for httpChunk.
void xm_mg_conn_reply(xsMachine* the)
{
	struct mg_connection* c = xm_mg_live(the, &xsArg(0));
	int status = xsToInteger(xsArg(1));
	int argc = xsToInteger(xsArgc);
	bool chunked = argc > 5 && xsTest(xsArg(5));
	send_reply(the, c, status, &xsArg(3), argc > 4 ? &xsArg(4) : NULL, &xsArg(2), chunked);
}

// Connection.prototype.reply (connection.ts installs it): reply(status, body),
// most replies, is answered here without a JavaScript frame (about 1,150
// instructions a request less, callgrind); headers or a reason go to the
// TypeScript method, kept as _reply, as JavaScript builds the header lines.
void xm_mg_conn_reply_fast(xsMachine* the)
{
	int argc = xsToInteger(xsArgc);
	if ((argc > 2 && xsTypeOf(xsArg(2)) != xsUndefinedType) || (argc > 3 && xsTypeOf(xsArg(3)) != xsUndefinedType)) {
		xsResult = xsCall4(xsThis, xsID("_reply"), xsArg(0), xsArg(1), xsArg(2), argc > 3 ? xsArg(3) : xsUndefined);
		return;
	}
	struct mg_connection* c = xm_mg_live(the, &xsThis);
	int status = argc > 0 ? xsToInteger(xsArg(0)) : 0;
	send_reply(the, c, status, argc > 1 && xsTypeOf(xsArg(1)) != xsUndefinedType ? &xsArg(1) : NULL, NULL, NULL, false);
}

// chunk(conn, data): one chunk of a chunked response; empty data ends it
void xm_mg_conn_http_chunk(xsMachine* the)
{
	xm_mg_conn_http_chunk_in_t a = xm_mg_conn_http_chunk_in(the);
	mg_http_write_chunk(a.conn, a.data.buf, a.data.len);
}

// mongoose sends page404 with status 200. Serve without it; when that gave a 404,
// send page404 in its place, under the status it stands for.
static void serve_dir(struct mg_connection* c, struct mg_http_message* hm, struct mg_http_serve_opts* opts)
{
	static const char not_found[] = "HTTP/1.1 404 ", ok[] = "HTTP/1.1 200 OK\r\n";
	const char* page404 = opts->page404;
	size_t start = c->send.len;
	unsigned responding = c->is_resp;
	opts->page404 = NULL;
	mg_http_serve_dir(c, hm, opts);
	opts->page404 = page404;
	if (!page404 || c->send.len - start < sizeof(not_found) - 1
		|| memcmp(c->send.buf + start, not_found, sizeof(not_found) - 1) != 0)
		return;
	c->send.len = start;  // drop mongoose's own "Not found"
	c->is_resp = responding;
	mg_http_serve_file(c, hm, page404, opts);
	if (c->send.len - start >= sizeof(ok) - 1 && memcmp(c->send.buf + start, ok, sizeof(ok) - 1) == 0) {
		mg_iobuf_del(&c->send, start + 9, 6);  // "200 OK"
		mg_iobuf_add(&c->send, start + 9, "404 Not Found", 13);
	}
}

// serve(conn, msg, path, rootDir, extraHeaders, mimeTypes, page404): a file when path
// is a string, else a directory listing/file under rootDir. The strings are C
// copies: mongoose keeps them past any XS allocation.
void xm_mg_conn_serve(xsMachine* the)
{
	xm_mg_conn_serve_in_t a = xm_mg_conn_serve_in(the);
	if (!a.msg)
		xsUnknownError("the request has expired: serve it from inside its handler");
	const char* given[] = { a.path, a.rootDir, a.extraHeaders, a.mimeTypes, a.page404 };
	char* s[5] = { NULL };
	for (int i = 0; i < 5; i++) {
		if (given[i] && !(s[i] = strdup(given[i]))) {
			while (i--)
				free(s[i]);
			xsUnknownError("no memory");
		}
	}
	struct mg_http_serve_opts opts = { .root_dir = s[1], .extra_headers = s[2], .mime_types = s[3], .page404 = s[4] };
	if (s[0])
		mg_http_serve_file(a.conn, a.msg, s[0], &opts);
	else
		serve_dir(a.conn, a.msg, &opts);
	for (int i = 0; i < 5; i++)
		free(s[i]);
}

// basicAuth(conn, user, pass): adds an Authorization header to an outgoing request
void xm_mg_conn_basic_auth(xsMachine* the)
{
	xm_mg_conn_basic_auth_in_t a = xm_mg_conn_basic_auth_in(the);
	mg_http_bauth(a.conn, a.user, a.pass);
}
