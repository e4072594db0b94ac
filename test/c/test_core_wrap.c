// SPDX-License-Identifier: MIT
// The protocol-handler wrapping helper (core/protocol_wrap.c), on mongoose's
// WebSocket handler. Isolated: each test wants to be the first to wrap.
#include "check.h"
#include "core_support.h"

#include <pthread.h>
#include <stdatomic.h>

static atomic_int wrapper_calls;

static void wrapper(struct mg_connection* c, int ev, void* ev_data)
{
	atomic_fetch_add(&wrapper_calls, 1);
	xm_core_unwrapped(XM_CORE_WS, c, ev, ev_data);
}

static struct mg_connection* upgraded(struct mg_mgr* mgr, recorder_t* rec)
{
	static const char upgrade[] = "GET / HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
	struct mg_http_message hm;
	struct mg_connection* c = core_accepted(mgr, NULL, rec);
	mg_http_parse(upgrade, sizeof(upgrade) - 1, &hm);
	mg_ws_upgrade(c, &hm, NULL);
	return c;
}

static void test_wrap_once(void)
{
	struct mg_mgr mgr;
	recorder_t rec = { 0 };
	core_mgr_init(&mgr);
	struct mg_connection* c = upgraded(&mgr, &rec);
	mg_event_handler_t mongoose = c->pfn;
	CHECK(xm_core_wrap(c, XM_CORE_WS, wrapper, true));
	CHECK(c->pfn == wrapper);
	CHECK(xm_core_wrap(c, XM_CORE_WS, wrapper, true));  // idempotent
	CHECK(c->pfn == wrapper);

	// Frames reach mongoose's handler through the wrapper, once each.
	static const uint8_t frame[] = { 0x81, 0x82, 0, 0, 0, 0, 'h', 'i' };
	core_receive(c, frame, sizeof(frame));
	CHECK_EQ(core_seen(&rec, MG_EV_WS_MSG), 1);
	CHECK(mg_strcmp(rec.data, mg_str("hi")) == 0);
	CHECK(atomic_load(&wrapper_calls) >= 2);  // READ, then WS_MSG through mg_call

	// Another handler is left alone, whether or not the caller thinks it is mongoose's.
	struct mg_connection* other = core_accepted(&mgr, NULL, NULL);
	other->pfn = core_record;
	CHECK(!xm_core_wrap(other, XM_CORE_WS, wrapper, false));
	CHECK(!xm_core_wrap(other, XM_CORE_WS, wrapper, true));
	CHECK(other->pfn == core_record);
	// A connection mongoose gave its handler back to is wrapped again without trust.
	other->pfn = mongoose;
	CHECK(xm_core_wrap(other, XM_CORE_WS, wrapper, false));
	CHECK(other->pfn == wrapper);
	// Nothing to wrap.
	other->pfn = NULL;
	CHECK(!xm_core_wrap(other, XM_CORE_WS, wrapper, true));
	CHECK(!xm_core_wrap(NULL, XM_CORE_WS, wrapper, true));
	core_drop(other);
	core_drop(c);
	core_free(&rec);
	mg_mgr_free(&mgr);
}

// Before anything was saved, an untrusted handler is not saved.
static void test_wrap_untrusted_first(void)
{
	struct mg_mgr mgr;
	core_mgr_init(&mgr);
	struct mg_connection* c = upgraded(&mgr, NULL);
	mg_event_handler_t mongoose = c->pfn;
	c->pfn = core_record;
	CHECK(!xm_core_wrap(c, XM_CORE_WS, wrapper, false));  // nothing saved to compare with
	CHECK(c->pfn == core_record);
	c->pfn = mongoose;
	CHECK(!xm_core_wrap(c, XM_CORE_WS, wrapper, false));
	CHECK(c->pfn == mongoose);
	CHECK(xm_core_wrap(c, XM_CORE_WS, wrapper, true));  // the first trusted one is saved
	CHECK(c->pfn == wrapper);
	core_drop(c);
	mg_mgr_free(&mgr);
}

enum { RACE_CONNECTIONS = 200 };

static void* race(void* arg)
{
	(void)arg;
	struct mg_mgr mgr;
	core_mgr_init(&mgr);
	bool all = true;
	for (int i = 0; i < RACE_CONNECTIONS; i++) {
		struct mg_connection* c = upgraded(&mgr, NULL);
		all = xm_core_wrap(c, XM_CORE_WS, wrapper, true) && c->pfn == wrapper && all;
		core_drop(c);
	}
	mg_mgr_free(&mgr);
	return all ? arg : NULL;
}

// Two tasks wrap at once, as a Manager and an AsyncManager do: both win.
static void test_wrap_two_tasks(void)
{
	static int token;
	pthread_t a, b;
	void *ra, *rb;
	CHECK_EQ(pthread_create(&a, NULL, race, &token), 0);
	CHECK_EQ(pthread_create(&b, NULL, race, &token), 0);
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	CHECK(ra == &token);
	CHECK(rb == &token);
}

const test_case_t core_wrap_tests[] = {
	{ "core: protocol_wrap saves mongoose's handler once, wraps once", test_wrap_once, true },
	{ "core: protocol_wrap saves only a handler known to be mongoose's", test_wrap_untrusted_first, true },
	{ "core: protocol_wrap from two tasks at once", test_wrap_two_tasks, true },
	{ NULL, NULL, false },
};
