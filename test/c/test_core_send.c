// SPDX-License-Identifier: MIT
// core/send_now.c over loopback: bytes queued outside mongoose's loop in an
// empty send buffer go at once, with their MG_EV_WRITE and without asking epoll
// for EPOLLOUT; a connection mongoose's loop would not write to yet keeps them
// for the loop, as does one whose buffer held bytes already or that closed.
#include "check.h"
#include "core_support.h"
#if MG_ENABLE_EPOLL
#include <sys/epoll.h>
#endif

static struct mg_connection* accepted(struct mg_mgr* mgr)
{
	for (struct mg_connection* c = mgr->conns; c; c = c->next)
		if (c->is_accepted)
			return c;
	return NULL;
}

// Polls until c has received n bytes (or about 2 s).
static bool received(struct mg_mgr* mgr, struct mg_connection* c, size_t n)
{
	for (int i = 0; i < 200 && c->recv.len < n; i++)
		mg_mgr_poll(mgr, 10);
	return c->recv.len >= n;
}

static void test_send_now(void)
{
	struct mg_mgr mgr;
	recorder_t server = { 0 }, client = { 0 }, early = { 0 };
	char url[64];
	core_mgr_init(&mgr);
	struct mg_connection* l = mg_listen(&mgr, "tcp://127.0.0.1:0", core_record, &server);
	CHECK(l != NULL);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", (unsigned)mg_ntohs(l->loc.port));
	struct mg_connection* c = mg_connect(&mgr, url, core_record, &client);
	CHECK(c != NULL);
	for (int i = 0; i < 200 && (!accepted(&mgr) || !core_seen(&client, MG_EV_CONNECT)); i++)
		mg_mgr_poll(&mgr, 10);
	struct mg_connection* a = accepted(&mgr);
	CHECK(a != NULL && core_seen(&client, MG_EV_CONNECT) == 1);

	xm_core_fresh_t fresh = { 0 };
	size_t writes = core_seen(&server, MG_EV_WRITE);
	CHECK(mg_send(a, "hello", 5));
	xm_core_fresh_add(&fresh, a, 0);
	xm_core_fresh_add(&fresh, c, 0);  // nothing queued: not fresh
	CHECK_EQ(fresh.count, 1);
	xm_core_fresh_send(&fresh);
	CHECK_EQ(fresh.count, 0);
	CHECK_EQ(a->send.len, 0);
	CHECK_EQ(core_seen(&server, MG_EV_WRITE), writes + 1);
#if MG_ENABLE_EPOLL
	// Nothing asked epoll to report a's socket writable: mongoose's loop, which
	// takes that interest back only after a write of its own, would spin on it.
	struct epoll_event evs[8];
	int n = epoll_wait(mgr.epoll_fd, evs, 8, 0);
	for (int i = 0; i < n; i++)
		CHECK(!(evs[i].data.ptr == a && (evs[i].events & EPOLLOUT)));
#endif
	CHECK(received(&mgr, c, 5));
	CHECK(memcmp(c->recv.buf, "hello", 5) == 0);

	// Still connecting: the bytes wait for mongoose's loop, which sends them once connected.
	struct mg_connection* e = mg_connect(&mgr, url, core_record, &early);
	CHECK(e != NULL && e->is_connecting);
	CHECK(mg_send(e, "x", 1));
	xm_core_fresh_add(&fresh, e, 0);
	xm_core_fresh_send(&fresh);
	CHECK_EQ(e->send.len, 1);
	CHECK_EQ(core_seen(&early, MG_EV_WRITE), 0);
	for (int i = 0; i < 200 && e->send.len; i++)
		mg_mgr_poll(&mgr, 10);
	CHECK_EQ(e->send.len, 0);
	CHECK_EQ(core_seen(&early, MG_EV_WRITE), 1);

	// Bytes queued behind others are the loop's: epoll may be watching for room.
	CHECK(mg_send(a, "more", 4));
	xm_core_fresh_add(&fresh, a, 1);
	CHECK_EQ(fresh.count, 0);
	// Forgotten at its CLOSE, a connection is not written (mongoose frees it),
	// however often it joined.
	CHECK(mg_send(c, "y", 1));
	xm_core_fresh_add(&fresh, a, 0);
	xm_core_fresh_add(&fresh, c, 0);
	xm_core_fresh_add(&fresh, a, 0);
	xm_core_fresh_forget(&fresh, a);
	CHECK(fresh.count == 1 && fresh.conns[0] == c);
	xm_core_fresh_send(&fresh);
	CHECK_EQ(c->send.len, 0);
	CHECK_EQ(a->send.len, 4);
	// Closing: nothing more goes out.
	a->is_closing = 1;
	xm_core_fresh_add(&fresh, a, 0);
	xm_core_fresh_send(&fresh);
	CHECK_EQ(a->send.len, 4);
	mg_mgr_free(&mgr);
	core_free(&server);
	core_free(&client);
	core_free(&early);
}

const test_case_t core_send_tests[] = {
	{ "core: send_now writes bytes queued in an empty buffer at once, leaves a connecting, forgotten or closing one to mongoose", test_send_now, false },
	{ NULL, NULL, false },
};
