// SPDX-License-Identifier: MIT
// HttpMessage: a view of mongoose's parsed request or response, readable during
// the handler call only (afterwards it reads as empty).
#include "xm_args.h"

// field(msg, n): method, uri, query, proto, head (request line and headers)
void xm_mg_hm_field(xsMachine* the)
{
	xm_mg_hm_field_in_t a = xm_mg_hm_field_in(the);
	struct mg_http_message* hm = a.msg;
	if (!hm) {
		xsResult = xsString("");
		return;
	}
	struct mg_str fields[] = { hm->method, hm->uri, hm->query, hm->proto, hm->head };  // n is 0..4
	xm_mg_new_string(the, &xsResult, fields[a.n]);
}

// headers(msg): [[name, value], ...] in arrival order, duplicates kept
void xm_mg_hm_headers(xsMachine* the)
{
	struct mg_http_message* hm = xm_mg_hm_headers_in(the).msg;
	xsVars(2);
	xsResult = xsNewArray(0);
	for (int i = 0; hm && i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len; i++) {
		xsVar(0) = xsNewArray(2);
		xm_mg_new_string(the, &xsVar(1), hm->headers[i].name);
		xsSetIndex(xsVar(0), 0, xsVar(1));
		xm_mg_new_string(the, &xsVar(1), hm->headers[i].value);
		xsSetIndex(xsVar(0), 1, xsVar(1));
		xsSetIndex(xsResult, i, xsVar(0));
	}
}

// header(msg, name): the first value, case-insensitively, or undefined
void xm_mg_hm_header(xsMachine* the)
{
	xm_mg_hm_header_in_t a = xm_mg_hm_header_in(the);
	if (!a.msg)
		return;
	struct mg_str* value = mg_http_get_header(a.msg, a.name);
	if (value)
		xm_mg_new_string(the, &xsResult, *value);
}

// A response without Content-Length (a WebSocket handshake's 101) has an endless
// body, ~0 bytes long: what has arrived of it is empty.
static struct mg_str body_of(const struct mg_http_message* hm)
{
	if (!hm || hm->body.len == (size_t)~0)
		return mg_str_n(NULL, 0);
	return hm->body;
}

void xm_mg_hm_body(xsMachine* the)
{
	struct mg_str body = body_of(xm_mg_hm_body_in(the).msg);
	xm_mg_new_bytes(the, &xsResult, body.buf, body.len);
}

void xm_mg_hm_body_text(xsMachine* the)
{
	xm_mg_new_string(the, &xsResult, body_of(xm_mg_hm_body_text_in(the).msg));
}

// var(msg, name, fromBody): a URL-decoded form variable of the query or body, or undefined
void xm_mg_hm_var(xsMachine* the)
{
	xm_mg_hm_var_in_t a = xm_mg_hm_var_in(the);
	struct mg_http_message* hm = a.msg;
	if (!hm)
		return;
	struct mg_str body = body_of(hm);
	struct mg_str* source = a.fromBody ? &body : &hm->query;
	size_t size = source->len + 1;
	char* value = malloc(size);
	if (!value)
		xsUnknownError("no memory to decode a form variable");
	int n = mg_http_get_var(source, a.name, value, size);  // malloc moves nothing in the XS heap
	if (n >= 0)
		xm_mg_new_string(the, &xsResult, mg_str_n(value, (size_t)n));
	free(value);
}

void xm_mg_hm_status(xsMachine* the)
{
	struct mg_http_message* hm = xm_mg_hm_status_in(the).msg;
	xsResult = xsInteger(hm ? mg_http_status(hm) : 0);
}

// credentials(msg): [user, password] from Basic (or Bearer: ["", token]) auth, or undefined
void xm_mg_hm_credentials(xsMachine* the)
{
	struct mg_http_message* hm = xm_mg_hm_credentials_in(the).msg;
	if (!hm || !mg_http_get_header(hm, "Authorization"))
		return;
	char user[128] = "", pass[256] = "";
	mg_http_creds(hm, user, sizeof(user), pass, sizeof(pass));
	xsVars(1);
	xsResult = xsNewArray(2);
	xsVar(0) = xsString(user);
	xsSetIndex(xsResult, 0, xsVar(0));
	xsVar(0) = xsString(pass);
	xsSetIndex(xsResult, 1, xsVar(0));
}
