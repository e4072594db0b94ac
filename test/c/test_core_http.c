// SPDX-License-Identifier: MIT
// The HTTP workarounds (core/http_*.c) on mongoose's own parser and handler.
#include "check.h"
#include "core_support.h"

static const char conflicting[] = "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";

// mongoose itself: the request is dropped, nothing is answered (the bug).
static void test_unparsed_request_unanswered_by_mongoose(void)
{
	struct mg_mgr mgr;
	recorder_t rec = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* listener = mg_http_listen(&mgr, "http://127.0.0.1:0", core_record, NULL);
	CHECK(listener != NULL);
	struct mg_connection* c = core_accepted(&mgr, listener, &rec);
	core_receive(c, conflicting, sizeof(conflicting) - 1);
	CHECK(c->is_draining);
	CHECK_EQ(c->send.len, 0);
	core_drop(c);
	mg_mgr_free(&mgr);
}

static void test_unparsed_request_answered_400(void)
{
	struct mg_mgr mgr;
	recorder_t rec = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* listener = mg_http_listen(&mgr, "http://127.0.0.1:0", core_record, NULL);
	xm_core_http_unparsed_request(listener);
	mg_event_handler_t wrapped = listener->pfn;
	xm_core_http_unparsed_request(listener);  // idempotent
	CHECK(listener->pfn == wrapped);
	struct mg_connection* c = core_accepted(&mgr, listener, &rec);
	core_receive(c, conflicting, sizeof(conflicting) - 1);
	CHECK(core_sent_starts(c, "HTTP/1.1 400 Bad Request\r\n"));
	CHECK(mg_match(mg_str_n((char*)c->send.buf, c->send.len), mg_str("#Connection: close\r\n#"), NULL));
	CHECK_EQ(core_seen(&rec, MG_EV_HTTP_MSG), 0);
	CHECK(c->pfn == xm_core_drop_input);
	size_t sent = c->send.len;
	core_receive(c, "GET / HTTP/1.1\r\n\r\n", 18);  // after the refusal: dropped
	CHECK_EQ(c->recv.len, 0);
	CHECK_EQ(c->send.len, sent);
	CHECK_EQ(core_seen(&rec, MG_EV_HTTP_HDRS), 0);
	core_drop(c);

	// A request mongoose parses goes through untouched.
	recorder_t ok = { 0 };
	c = core_accepted(&mgr, listener, &ok);
	core_receive(c, "GET /x HTTP/1.1\r\n\r\n", 19);
	CHECK_EQ(core_seen(&ok, MG_EV_HTTP_MSG), 1);
	CHECK_EQ(c->send.len, 0);
	CHECK(!c->is_draining);
	core_drop(c);
	mg_mgr_free(&mgr);
}

// An MQTT server's connections are no HTTP: left alone.
static void test_unparsed_request_leaves_mqtt_alone(void)
{
	struct mg_mgr mgr;
	core_mgr_init(&mgr);
	struct mg_connection* http = mg_http_listen(&mgr, "http://127.0.0.1:0", core_record, NULL);
	xm_core_http_unparsed_request(http);  // the HTTP handler is known from here on
	struct mg_connection* mqtt = mg_mqtt_listen(&mgr, "mqtt://127.0.0.1:0", core_record, NULL);
	struct mg_connection* c = core_accepted(&mgr, mqtt, NULL);
	mg_event_handler_t before = c->pfn;
	xm_core_http_unparsed_request(c);
	CHECK(c->pfn == before);
	xm_core_http_unparsed_request(NULL);
	core_drop(c);
	mg_mgr_free(&mgr);
}

// Parses text placed in c's receive buffer, as http_cb does at HTTP_HDRS.
static bool parse_received(struct mg_connection* c, const char* text, struct mg_http_message* hm)
{
	mg_iobuf_add(&c->recv, c->recv.len, text, strlen(text));
	return mg_http_parse((char*)c->recv.buf, c->recv.len, hm) > 0;
}

static bool request_line_refused(const char* request)
{
	struct mg_mgr mgr;
	struct mg_http_message hm;
	xm_core_http_state_t s = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* c = core_accepted(&mgr, NULL, NULL);
	CHECK(parse_received(c, request, &hm));
	bool refused = xm_core_http_request_line(c, MG_EV_HTTP_HDRS, &hm, &s);
	CHECK_EQ(refused, s.refused);
	if (refused) {
		CHECK(core_sent_starts(c, "HTTP/1.1 400 Bad Request\r\n"));
		CHECK(c->is_draining);
		CHECK_EQ(c->recv.len, 0);
	} else
		CHECK_EQ(c->send.len, 0);
	core_drop(c);
	mg_mgr_free(&mgr);
	return refused;
}

static void test_request_line(void)
{
	CHECK(!request_line_refused("GET /a?b=1 HTTP/1.1\r\n\r\n"));
	CHECK(!request_line_refused("OPTIONS * HTTP/1.1\r\n\r\n"));
	CHECK(!request_line_refused("GET http://example.com/ HTTP/1.1\r\n\r\n"));
	CHECK(!request_line_refused("CONNECT example.com:443 HTTP/1.1\r\n\r\n"));
	CHECK(!request_line_refused("M-SEARCH * HTTP/1.1\r\n\r\n"));
	// mongoose takes these as requests.
	CHECK(request_line_refused("HTTP/1.1 200 OK\r\n\r\n"));
	CHECK(request_line_refused("G(T / HTTP/1.1\r\n\r\n"));
	CHECK(request_line_refused("GET index.html HTTP/1.1\r\n\r\n"));
	CHECK(request_line_refused("GET 1http://x/ HTTP/1.1\r\n\r\n"));
}

static void test_body_over_limit(void)
{
	struct mg_mgr mgr;
	struct mg_http_message hm;
	core_mgr_init(&mgr);
	struct mg_connection* c = core_accepted(&mgr, NULL, NULL);
	char request[128];
	size_t length = MG_MAX_RECV_SIZE + 10;
	snprintf(request, sizeof(request), "POST / HTTP/1.1\r\nContent-Length: %lu\r\n\r\nabc", (unsigned long)length);
	CHECK(parse_received(c, request, &hm));

	// The handler answered or read: its business.
	xm_core_http_state_t s = { 0 };
	CHECK(!xm_core_http_body_over_limit(c, MG_EV_HTTP_HDRS, &hm, c->send.len + 1, c->recv.len, &s));
	CHECK(!xm_core_http_body_over_limit(c, MG_EV_HTTP_HDRS, &hm, c->send.len, c->recv.len, NULL));

	CHECK(xm_core_http_body_over_limit(c, MG_EV_HTTP_HDRS, &hm, c->send.len, c->recv.len, &s));
	CHECK(core_sent_starts(c, "HTTP/1.1 413 Payload Too Large\r\n"));
	CHECK(s.refused);
	CHECK_EQ(s.discard, length - 3);
	CHECK_EQ(c->recv.len, 0);
	CHECK(!c->is_draining);

	// The rest of the body is read and dropped; the connection closes once it is in.
	static char chunk[4096];
	size_t left = s.discard;
	while (left) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
		mg_iobuf_add(&c->recv, 0, chunk, n);
		CHECK(xm_core_http_body_discard(c, MG_EV_READ, &s));
		CHECK_EQ(c->recv.len, 0);
		left -= n;
		CHECK_EQ(s.discard, left);
		CHECK_EQ(c->is_draining, left == 0);
	}
	CHECK(!xm_core_http_body_discard(c, MG_EV_WRITE, &s));
	core_drop(c);

	// A body that fits is left to mongoose.
	c = core_accepted(&mgr, NULL, NULL);
	xm_core_http_state_t fits = { 0 };
	CHECK(parse_received(c, "POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n", &hm));
	CHECK(!xm_core_http_check(c, MG_EV_HTTP_HDRS, &hm, &fits));
	CHECK(!fits.refused);
	CHECK_EQ(c->send.len, 0);
	core_drop(c);
	mg_mgr_free(&mgr);
}

// Both checks at once, as the AsyncManager runs them: a bad request line is
// refused before the body check, and what follows is consumed.
static void test_check_both(void)
{
	struct mg_mgr mgr;
	struct mg_http_message hm;
	xm_core_http_state_t s = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* c = core_accepted(&mgr, NULL, NULL);
	CHECK(parse_received(c, "HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n", &hm));
	CHECK(xm_core_http_check(c, MG_EV_HTTP_HDRS, &hm, &s));
	CHECK(core_sent_starts(c, "HTTP/1.1 400 Bad Request\r\n"));
	mg_iobuf_add(&c->recv, 0, "more", 4);
	CHECK(xm_core_http_check(c, MG_EV_READ, NULL, &s));
	CHECK_EQ(c->recv.len, 0);
	core_drop(c);
	mg_mgr_free(&mgr);
}

// The handler of a server that refuses every request for lack of memory, as the
// front ends do (core/message_refuse.c).
typedef struct {
	xm_core_http_state_t s;
	int messages;
} refusing_t;

static void refuse_all(struct mg_connection* c, int ev, void* ev_data)
{
	refusing_t* r = c->fn_data;
	if (xm_core_http_before(c, ev, ev_data, &r->s) || ev != MG_EV_HTTP_MSG)
		return;
	r->messages++;
	xm_core_refuse_message(c, ev, &r->s);
	xm_core_refuse_message(c, ev, &r->s);  // once refused, left alone
}

static void test_refuse_message_503(void)
{
	struct mg_mgr mgr;
	core_mgr_init(&mgr);
	struct mg_connection* listener = mg_http_listen(&mgr, "http://127.0.0.1:0", core_record, NULL);
	struct mg_connection* c = core_accepted(&mgr, listener, NULL);
	refusing_t r = { 0 };
	c->fn = refuse_all;
	c->fn_data = &r;
	static const char two[] = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n\r\n";
	core_receive(c, two, sizeof(two) - 1);
	CHECK(core_sent_starts(c, "HTTP/1.1 503 Service Unavailable\r\n"));
	struct mg_str sent = mg_str_n((char*)c->send.buf, c->send.len);
	CHECK(mg_match(sent, mg_str("#Connection: close\r\n#"), NULL));
	CHECK_EQ(r.messages, 1);  // the pipelined GET is not parsed: the connection closes
	CHECK(c->is_draining);
	size_t before = c->send.len;
	core_receive(c, "GET /c HTTP/1.1\r\n\r\n", 20);  // what still arrives is dropped
	CHECK_EQ(c->recv.len, 0);
	CHECK_EQ(c->send.len, before);
	CHECK_EQ(r.messages, 1);
	core_drop(c);

	// Another connection of the kind (an HTTP client's, an MQTT one) is closed.
	c = core_accepted(&mgr, NULL, NULL);
	c->is_accepted = 0;
	xm_core_refuse_message(c, MG_EV_HTTP_MSG, NULL);
	CHECK(c->is_closing);
	CHECK_EQ(c->send.len, 0);
	core_drop(c);

	// A UDP connection loses the datagram it holds, and serves on.
	c = core_accepted(&mgr, NULL, NULL);
	c->is_accepted = 0;
	c->is_udp = 1;
	mg_iobuf_add(&c->recv, 0, "datagram", 8);
	xm_core_refuse_message(c, MG_EV_READ, NULL);
	CHECK_EQ(c->recv.len, 0);
	CHECK(!c->is_closing);
	CHECK_EQ(c->send.len, 0);
	core_drop(c);
	mg_mgr_free(&mgr);
}

const test_case_t core_http_tests[] = {
	{ "core: mongoose drops a request it cannot parse, unanswered", test_unparsed_request_unanswered_by_mongoose, false },
	{ "core: http_unparsed_request answers 400 (conflicting Content-Length)", test_unparsed_request_answered_400, false },
	{ "core: http_unparsed_request leaves an MQTT server's connection alone", test_unparsed_request_leaves_mqtt_alone, false },
	{ "core: http_request_line refuses what is no METHOD TARGET", test_request_line, false },
	{ "core: http_body_over_limit answers 413 and drops the body", test_body_over_limit, false },
	{ "core: http_check, both checks at once", test_check_both, false },
	{ "core: refuse_message answers a request 503 and closes, drops a UDP datagram, closes other connections", test_refuse_message_503, false },
	{ NULL, NULL, false },
};
