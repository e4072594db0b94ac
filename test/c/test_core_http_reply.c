// SPDX-License-Identifier: MIT
// HTTP responses (core/http_reply.c) as a client reads them over loopback:
// mongoose's own parser on the other end.
#include <string.h>
#include "check.h"
#include "core_support.h"

// A server that answers each request with response (size bytes), then a client
// that sends one request: what the client parsed, in hm, valid until mg_mgr_free.
typedef struct {
	const char* response;
	size_t size;
	bool threw;       // answer with the 500 of a handler that threw instead
	int requests;
} server_t;

static void serve(struct mg_connection* c, int ev, void* ev_data)
{
	server_t* s = c->fn_data;
	(void)ev_data;
	if (ev != MG_EV_HTTP_MSG)
		return;
	s->requests++;
	if (s->threw)
		xm_core_http_500(c);
	else
		mg_send(c, s->response, s->size);
}

typedef struct {
	char* head;       // the response's status line and headers
	char* body;
	size_t body_len;
	bool done;
} client_t;

static void fetch(struct mg_connection* c, int ev, void* ev_data)
{
	client_t* r = c->fn_data;
	if (ev == MG_EV_CONNECT)
		mg_printf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	if (ev == MG_EV_HTTP_MSG && !r->done) {
		struct mg_http_message* hm = ev_data;
		r->head = strndup(hm->head.buf, hm->head.len);
		r->body = malloc(hm->body.len + 1);
		memcpy(r->body, hm->body.buf, hm->body.len);
		r->body[hm->body.len] = 0;
		r->body_len = hm->body.len;
		r->done = true;
		c->is_draining = 1;
	}
}

static void exchange(server_t* s, client_t* r)
{
	struct mg_mgr mgr;
	char url[64];
	core_mgr_init(&mgr);
	struct mg_connection* l = mg_http_listen(&mgr, "http://127.0.0.1:0", serve, s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)mg_ntohs(l->loc.port));
	mg_http_connect(&mgr, url, fetch, r);
	for (int i = 0; i < 200 && !r->done; i++)
		mg_mgr_poll(&mgr, 10);
	mg_mgr_free(&mgr);
}

static bool has(const char* text, const char* part)
{
	return text && strstr(text, part) != NULL;
}

static void test_reply_with_length(void)
{
	static const char body[] = { 'a', 0, 'b' };  // binary-safe: a NUL inside
	size_t total = 0;
	char* response = xm_core_http_response(201, NULL, "X-A: 1\r\n", body, sizeof(body), false, &total);
	server_t s = { response, total, false, 0 };
	client_t r = { 0 };
	exchange(&s, &r);
	CHECK(r.done);
	CHECK(has(r.head, "HTTP/1.1 201 Created\r\n"));
	CHECK(has(r.head, "X-A: 1\r\n"));
	CHECK(has(r.head, "Content-Length: 3"));
	CHECK_EQ(r.body_len, 3);
	CHECK(r.body && memcmp(r.body, body, 3) == 0);
	free(response);
	free(r.head);
	free(r.body);
}

// A reason given replaces the phrase; an unknown status has none of its own.
static void test_reason(void)
{
	size_t total = 0;
	char* given = xm_core_http_response(299, "Fine", "", "", 0, false, &total);
	CHECK(given && strncmp(given, "HTTP/1.1 299 Fine\r\nContent-Length: 0\r\n\r\n", total) == 0);
	char* unknown = xm_core_http_response(299, NULL, "", "", 0, false, &total);
	CHECK(unknown && strncmp(unknown, "HTTP/1.1 299 \r\n", 15) == 0);
	CHECK(strcmp(xm_core_http_reason(404), "Not Found") == 0);
	free(given);
	free(unknown);
}

// A chunked head has no Content-Length and no body: the chunks follow it.
static void test_chunked_head(void)
{
	size_t total = 0;
	char* head = xm_core_http_response(200, NULL, "Transfer-Encoding: chunked\r\n", "ignored", 7, true, &total);
	char response[256];
	CHECK(head && total < sizeof(response) - 13);
	memcpy(response, head, total);
	memcpy(response + total, "3\r\nabc\r\n0\r\n\r\n", 13);
	CHECK(!strstr(head, "ignored") && strlen(head) == total);
	server_t s = { response, total + 13, false, 0 };
	client_t r = { 0 };
	exchange(&s, &r);
	CHECK(r.done);
	CHECK(has(r.head, "HTTP/1.1 200 OK\r\n"));
	CHECK(!has(r.head, "Content-Length"));
	CHECK(r.body && strcmp(r.body, "abc") == 0);
	free(head);
	free(r.head);
	free(r.body);
}

static void test_500(void)
{
	server_t s = { NULL, 0, true, 0 };
	client_t r = { 0 };
	exchange(&s, &r);
	CHECK(r.done);
	CHECK(has(r.head, "HTTP/1.1 500 Internal Server Error\r\n"));
	CHECK(r.body && strcmp(r.body, "Internal Server Error\n") == 0);
	CHECK_EQ(s.requests, 1);
	free(r.head);
	free(r.body);
}

const test_case_t core_http_reply_tests[] = {
	{ "core: http_response with Content-Length, binary-safe", test_reply_with_length, false },
	{ "core: http_response's reason phrase", test_reason, false },
	{ "core: http_response's chunked head, then chunks", test_chunked_head, false },
	{ "core: http_500 answers a request", test_500, false },
	{ NULL, NULL, false },
};
