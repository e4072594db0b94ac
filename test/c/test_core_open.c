// SPDX-License-Identifier: MIT
// Opening connections by kind (core/open.c) over loopback: what each kind
// opens, the workarounds it gets, and the one text for each failure.
#include <errno.h>
#include <string.h>
#include "check.h"
#include "core_support.h"

// Polls until rec has seen ev, or about two seconds went by.
static bool poll_for(struct mg_mgr* mgr, const recorder_t* rec, int ev)
{
	for (int i = 0; i < 200 && !core_seen(rec, ev); i++)
		mg_mgr_poll(mgr, 10);
	return core_seen(rec, ev) > 0;
}

static struct mg_connection* open_ok(struct mg_mgr* mgr, bool listen, xm_core_open_kind_t kind, const char* url,
	const struct mg_mqtt_opts* mqtt, recorder_t* rec)
{
	char why[200] = "";
	struct mg_connection* c = xm_core_open(mgr, listen, kind, url, mqtt, core_record, rec, why, sizeof(why));
	CHECK(c != NULL);
	CHECK_EQ(why[0], 0);
	return c;
}

// A URL on the loopback at listener's port.
static const char* at(char* url, size_t size, const char* scheme, const struct mg_connection* listener)
{
	snprintf(url, size, "%s://127.0.0.1:%u", scheme, (unsigned)mg_ntohs(listener->loc.port));
	return url;
}

static void test_open_raw_tcp(void)
{
	struct mg_mgr mgr;
	recorder_t server = { 0 }, client = { 0 };
	char url[64];
	core_mgr_init(&mgr);
	struct mg_connection* l = open_ok(&mgr, true, XM_CORE_OPEN_RAW, "tcp://127.0.0.1:0", NULL, &server);
	CHECK(l->is_listening && !l->is_udp && l->pfn == NULL);
	struct mg_connection* c = open_ok(&mgr, false, XM_CORE_OPEN_RAW, at(url, sizeof(url), "tcp", l), NULL, &client);
	CHECK(c->is_client && c->pfn == NULL);
	CHECK(poll_for(&mgr, &client, MG_EV_CONNECT));
	CHECK(poll_for(&mgr, &server, MG_EV_ACCEPT));
	mg_mgr_free(&mgr);
}

// An HTTP listener answers what mongoose cannot parse (http_unparsed_request).
static void test_open_http_listener_answers_400(void)
{
	static const char conflicting[] = "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
	struct mg_mgr mgr;
	recorder_t client = { 0 };
	char url[64];
	core_mgr_init(&mgr);
	struct mg_connection* l = open_ok(&mgr, true, XM_CORE_OPEN_HTTP, "http://127.0.0.1:0", NULL, NULL);
	struct mg_connection* c = open_ok(&mgr, false, XM_CORE_OPEN_RAW, at(url, sizeof(url), "tcp", l), NULL, &client);
	CHECK(poll_for(&mgr, &client, MG_EV_CONNECT));
	mg_send(c, conflicting, sizeof(conflicting) - 1);
	for (int i = 0; i < 200 && !core_seen(&client, MG_EV_CLOSE) && c->recv.len < 12; i++)
		mg_mgr_poll(&mgr, 10);
	CHECK(c->recv.len >= 12 && memcmp(c->recv.buf, "HTTP/1.1 400", 12) == 0);
	mg_mgr_free(&mgr);
}

// An HTTP client and a WebSocket client reach an HTTP server; the WebSocket
// client's frames are checked (ws_frame_check wraps its handler, a plain
// mg_ws_connect's is mongoose's).
static void test_open_http_and_ws_clients(void)
{
	struct mg_mgr mgr;
	recorder_t server = { 0 }, http = { 0 }, ws = { 0 };
	char url[64];
	core_mgr_init(&mgr);
	struct mg_connection* l = open_ok(&mgr, true, XM_CORE_OPEN_HTTP, "http://127.0.0.1:0", NULL, &server);
	struct mg_connection* h = open_ok(&mgr, false, XM_CORE_OPEN_HTTP, at(url, sizeof(url), "http", l), NULL, &http);
	CHECK(poll_for(&mgr, &http, MG_EV_CONNECT));
	CHECK(h->pfn != NULL);
	struct mg_connection* w = open_ok(&mgr, false, XM_CORE_OPEN_WS, at(url, sizeof(url), "ws", l), NULL, &ws);
	struct mg_connection* plain = mg_ws_connect(&mgr, url, core_record, NULL, NULL);
	CHECK(w->pfn != NULL && plain->pfn != NULL && w->pfn != plain->pfn);
	CHECK(poll_for(&mgr, &ws, MG_EV_CONNECT));
	mg_mgr_free(&mgr);
}

// The server's end of a client's connection.
static struct mg_connection* accepted_for(struct mg_mgr* mgr, const struct mg_connection* client)
{
	for (struct mg_connection* s = mgr->conns; s; s = s->next)
		if (s->is_accepted && s->rem.port == client->loc.port)
			return s;
	return NULL;
}

// An MQTT 5 client gets its PUBLISH repair; the MQTT server its CONNECT, and
// then speaks the version each client named (mongoose's server takes 3.1.1).
static void test_open_mqtt(void)
{
	struct mg_mgr mgr;
	recorder_t server = { 0 }, client = { 0 };
	char url[64];
	struct mg_mqtt_opts opts = { 0 }, opts4 = { 0 };
	opts.version = 5;
	opts.client_id = mg_str("core-open");
	opts4.version = 4;
	opts4.client_id = mg_str("core-open-4");
	core_mgr_init(&mgr);
	struct mg_connection* l = open_ok(&mgr, true, XM_CORE_OPEN_MQTT, "mqtt://127.0.0.1:0", NULL, &server);
	struct mg_connection* c = open_ok(&mgr, false, XM_CORE_OPEN_MQTT, at(url, sizeof(url), "mqtt", l), &opts, &client);
	struct mg_connection* plain = mg_mqtt_connect(&mgr, url, &opts, core_record, NULL);
	struct mg_connection* four = mg_mqtt_connect(&mgr, url, &opts4, core_record, NULL);
	CHECK(c->pfn != plain->pfn);
	CHECK(poll_for(&mgr, &server, MG_EV_MQTT_CMD));  // the CONNECT xm_core_open had mongoose send
	struct mg_connection *s5 = NULL, *s4 = NULL;
	for (int i = 0; i < 100 && core_seen(&server, MG_EV_MQTT_CMD) < 3; i++) {  // the three CONNECTs
		mg_mgr_poll(&mgr, 10);
		s5 = accepted_for(&mgr, c);
		s4 = accepted_for(&mgr, four);
	}
	CHECK(core_seen(&server, MG_EV_MQTT_CMD) == 3);
	CHECK(s5 && s5->is_mqtt5);
	CHECK(s4 && !s4->is_mqtt5);
	mg_mgr_free(&mgr);
}

// SNTP asks over UDP at once: a UDP listener opened as raw gets the request.
static void test_open_sntp_and_udp(void)
{
	struct mg_mgr mgr;
	recorder_t server = { 0 }, client = { 0 };
	char url[64];
	core_mgr_init(&mgr);
	struct mg_connection* l = open_ok(&mgr, true, XM_CORE_OPEN_RAW, "udp://127.0.0.1:0", NULL, &server);
	CHECK(l->is_udp);
	open_ok(&mgr, false, XM_CORE_OPEN_SNTP, at(url, sizeof(url), "udp", l), NULL, &client);
	CHECK(poll_for(&mgr, &server, MG_EV_READ));
	mg_mgr_free(&mgr);
}

static void test_open_failures(void)
{
	struct mg_mgr mgr;
	char why[200], url[64], expected[120];
	core_mgr_init(&mgr);
	CHECK(!xm_core_open(&mgr, false, XM_CORE_OPEN_MQTT, "", NULL, core_record, NULL, why, sizeof(why)));
	CHECK(strcmp(why, "mqttConnect : invalid URL or no resources") == 0);
	struct mg_connection* l = open_ok(&mgr, true, XM_CORE_OPEN_RAW, "tcp://127.0.0.1:0", NULL, NULL);
	CHECK(!xm_core_open(&mgr, true, XM_CORE_OPEN_HTTP, at(url, sizeof(url), "http", l), NULL, core_record, NULL, why, sizeof(why)));
	snprintf(expected, sizeof(expected), "listen %s: %s", url, strerror(EADDRINUSE));
	CHECK(strcmp(why, expected) == 0);
	CHECK(!xm_core_open(&mgr, true, XM_CORE_OPEN_WS, "ws://127.0.0.1:0", NULL, core_record, NULL, why, sizeof(why)));
	CHECK(strcmp(why, "cannot open that kind of connection (2)") == 0);
	mg_mgr_free(&mgr);
}

const test_case_t core_open_tests[] = {
	{ "core: open raw TCP, listen and connect", test_open_raw_tcp, false },
	{ "core: open an HTTP listener, which answers 400 to what mongoose cannot parse", test_open_http_listener_answers_400, false },
	{ "core: open HTTP and WebSocket clients (the latter's frames checked)", test_open_http_and_ws_clients, false },
	{ "core: open an MQTT server and an MQTT 5 client (its PUBLISH repaired)", test_open_mqtt, false },
	{ "core: open SNTP to a UDP listener", test_open_sntp_and_udp, false },
	{ "core: open failures, one text each", test_open_failures, false },
	{ NULL, NULL, false },
};
