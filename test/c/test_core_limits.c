// SPDX-License-Identifier: MIT
// A listener's limits (core/conn_limits.c) over loopback, with a server handler
// as the front ends' (conn_of, adopt, then xm_core_limits_event on every
// event) and mongoose clients in the same manager.
#include <unistd.h>
#include "check.h"
#include "core_support.h"

typedef struct {
	xm_core_conn_t core;
	bool used;
} server_t;

typedef struct {
	char got[256];   // what the server sent, from the start
	size_t len;
	bool closed;
} client_t;

static server_t states[8];

static void on_server(struct mg_connection* c, int ev, void* ev_data)
{
	xm_core_conn_t* listener;
	server_t* s = (server_t*)xm_core_conn_of(c, &listener);
	if (!s && !listener)
		return;  // refused
	if (!s) {
		for (size_t i = 0; i < 8 && !s; i++)
			if (!states[i].used)
				s = &states[i];
		CHECK(s != NULL);
		s->used = true;
		xm_core_conn_adopt(&s->core, c);
	}
	xm_core_limits_event(c, ev, ev_data, &s->core);
	if (ev == MG_EV_CLOSE && s != NULL && c->is_accepted) {
		s->core.c = NULL;
		s->used = false;
	}
}

static void on_client(struct mg_connection* c, int ev, void* ev_data)
{
	(void)ev_data;
	client_t* k = c->fn_data;
	if (ev == MG_EV_READ) {
		size_t n = c->recv.len < sizeof(k->got) - 1 - k->len ? c->recv.len : sizeof(k->got) - 1 - k->len;
		memcpy(k->got + k->len, c->recv.buf, n);
		k->len += n;
		c->recv.len = 0;
	} else if (ev == MG_EV_CLOSE) {
		k->closed = true;
	}
}

static size_t open_count(const server_t* l)
{
	return l->core.limits.open;
}

// Polls until done() or about 3 s.
static void poll_until(struct mg_mgr* mgr, bool (*done)(void*), void* arg)
{
	for (int i = 0; i < 300 && !done(arg); i++)
		mg_mgr_poll(mgr, 10);
}

static bool closed(void* k)
{
	return ((client_t*)k)->closed;
}

static bool one_open(void* l)
{
	return open_count(l) == 1;
}

static struct mg_connection* listen_with(struct mg_mgr* mgr, server_t* l, xm_core_limits_t limits, char* url, size_t size)
{
	char why[160];
	memset(states, 0, sizeof(states));
	*l = (server_t){ .core.limits.set = limits };
	struct mg_connection* lc = xm_core_open(mgr, true, limits.http ? XM_CORE_OPEN_HTTP : XM_CORE_OPEN_RAW,
		"tcp://127.0.0.1:0", NULL, on_server, l, why, sizeof(why));
	CHECK(lc != NULL);
	snprintf(url, size, "tcp://127.0.0.1:%u", (unsigned)mg_ntohs(lc->loc.port));
	return lc;
}

static struct mg_connection* client(struct mg_mgr* mgr, const char* url, client_t* k)
{
	memset(k, 0, sizeof(*k));
	struct mg_connection* c = mg_connect(mgr, url, on_client, k);
	CHECK(c != NULL);
	return c;
}

static void test_cap_raw(void)
{
	struct mg_mgr mgr;
	server_t l;
	client_t a, b, d;
	char url[64];
	core_mgr_init(&mgr);
	listen_with(&mgr, &l, (xm_core_limits_t){ .max = 1 }, url, sizeof(url));
	struct mg_connection* ca = client(&mgr, url, &a);
	poll_until(&mgr, one_open, &l);
	CHECK_EQ(open_count(&l), 1);
	client(&mgr, url, &b);
	poll_until(&mgr, closed, &b);
	CHECK(b.closed && b.len == 0);  // refused: closed at once, nothing said
	CHECK(!a.closed && open_count(&l) == 1);
	ca->is_closing = 1;  // the first leaves: room for another
	poll_until(&mgr, closed, &a);
	for (int i = 0; i < 20 && open_count(&l); i++)
		mg_mgr_poll(&mgr, 10);
	CHECK_EQ(open_count(&l), 0);
	client(&mgr, url, &d);
	poll_until(&mgr, one_open, &l);
	CHECK(open_count(&l) == 1 && !d.closed);
	mg_mgr_free(&mgr);
}

static void test_cap_http_503(void)
{
	struct mg_mgr mgr;
	server_t l;
	client_t a, b;
	char url[64];
	core_mgr_init(&mgr);
	listen_with(&mgr, &l, (xm_core_limits_t){ .max = 1, .http = true }, url, sizeof(url));
	client(&mgr, url, &a);
	poll_until(&mgr, one_open, &l);
	struct mg_connection* cb = client(&mgr, url, &b);
	mg_printf(cb, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	poll_until(&mgr, closed, &b);
	CHECK(b.closed);
	CHECK(strncmp(b.got, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0);
	CHECK(strstr(b.got, "Connection: close\r\n") != NULL);
	CHECK(!a.closed && open_count(&l) == 1);
	// One that sends no request gets the 503 too, and is closed after the linger.
	client_t d;
	client(&mgr, url, &d);
	uint64_t start = mg_millis();
	poll_until(&mgr, closed, &d);
	uint64_t took = mg_millis() - start;
	CHECK(d.closed && took >= 450 && took < 1500);
	CHECK(strncmp(d.got, "HTTP/1.1 503 ", 13) == 0);
	mg_mgr_free(&mgr);
}

static void test_idle(void)
{
	struct mg_mgr mgr;
	server_t l;
	client_t a;
	char url[64];
	core_mgr_init(&mgr);
	listen_with(&mgr, &l, (xm_core_limits_t){ .idle_ms = 100 }, url, sizeof(url));
	struct mg_connection* ca = client(&mgr, url, &a);
	poll_until(&mgr, one_open, &l);
	// Bytes every 50 ms keep it open past the limit.
	uint64_t quiet = 0;
	for (int i = 0; i < 6; i++) {
		mg_send(ca, "x", 1);
		quiet = mg_millis();
		while (mg_millis() < quiet + 50)
			mg_mgr_poll(&mgr, 5);
	}
	CHECK(!a.closed);
	// A poll round that comes late (a long handler): bytes that wait to be read
	// count, though this round reads them only after POLL.
	mg_send(ca, "y", 1);
	mg_mgr_poll(&mgr, 5);  // the client writes it; the server reads it next round
	usleep(250 * 1000);
	quiet = mg_millis();
	for (int i = 0; i < 3; i++)
		mg_mgr_poll(&mgr, 5);
	CHECK(!a.closed);
	poll_until(&mgr, closed, &a);
	uint64_t took = mg_millis() - quiet;
	CHECK(a.closed && took >= 100 && took < 400);
	CHECK_EQ(open_count(&l), 0);
	mg_mgr_free(&mgr);
}

static void test_headers_408(void)
{
	struct mg_mgr mgr;
	server_t l;
	client_t a, b;
	char url[64];
	core_mgr_init(&mgr);
	listen_with(&mgr, &l, (xm_core_limits_t){ .headers_ms = 100, .http = true }, url, sizeof(url));
	struct mg_connection* ca = client(&mgr, url, &a);
	mg_printf(ca, "GET / HT");
	uint64_t start = mg_millis();
	poll_until(&mgr, closed, &a);
	uint64_t took = mg_millis() - start;
	CHECK(a.closed && took >= 100 && took < 400);
	CHECK(strncmp(a.got, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0);
	// A connection that sends nothing has no head in progress: no 408.
	client(&mgr, url, &b);
	for (int i = 0; i < 30; i++)
		mg_mgr_poll(&mgr, 10);
	CHECK(!b.closed && b.len == 0);
	mg_mgr_free(&mgr);
}

// A listener closing before its connections: they leave no count behind (ASan
// would see a freed listener's state written).
static void test_listener_first(void)
{
	struct mg_mgr mgr;
	server_t l;
	client_t a;
	char url[64];
	core_mgr_init(&mgr);
	struct mg_connection* lc = listen_with(&mgr, &l, (xm_core_limits_t){ .max = 4 }, url, sizeof(url));
	struct mg_connection* ca = client(&mgr, url, &a);
	poll_until(&mgr, one_open, &l);
	lc->is_closing = 1;
	mg_mgr_poll(&mgr, 10);
	server_t* s = NULL;
	for (size_t i = 0; i < 8; i++)
		if (states[i].used)
			s = &states[i];
	CHECK(s != NULL && s->core.limits.listener == NULL);
	ca->is_closing = 1;
	poll_until(&mgr, closed, &a);
	mg_mgr_free(&mgr);
}

const test_case_t core_limits_tests[] = {
	{ "core: limits, a raw listener at its cap closes a new connection, takes one again below it", test_cap_raw, false },
	{ "core: limits, an HTTP listener at its cap answers 503 with Connection: close, with or without a request", test_cap_http_503, false },
	{ "core: limits, a connection quiet past idle_ms is closed, one moving bytes is not", test_idle, false },
	{ "core: limits, a request head not complete within headers_ms gets a 408", test_headers_408, false },
	{ "core: limits, a listener closing before its connections", test_listener_first, false },
	{ NULL, NULL, false },
};
