// SPDX-License-Identifier: MIT
// Per-connection state on fn_data (core/conn.c) over loopback: an open's state
// becomes its connection's at the first event; an accepted connection arrives
// with its listener's and gets its own.
#include "check.h"
#include "core_support.h"

typedef struct {
	xm_core_conn_t core;
	int accepted;                // listener: connections adopted
	int first_ev;                // the event at which a state was bound (-1: none yet)
	struct mg_connection* seen;  // an accepted connection's listener, as xm_core_conn_of gave it
} state_t;

static state_t adopted[4];

static void on_event(struct mg_connection* c, int ev, void* ev_data)
{
	(void)ev_data;
	xm_core_conn_t* listener;
	state_t* s = (state_t*)xm_core_conn_of(c, &listener);
	if (!s) {
		state_t* ls = (state_t*)listener;
		s = &adopted[ls->accepted++ % 4];
		s->seen = ls->core.c;
		s->first_ev = ev;
		xm_core_conn_adopt(&s->core, c);
	}
	else if (s->first_ev < 0)
		s->first_ev = ev;
	if (ev == MG_EV_CLOSE)
		s->core.c = NULL;
}

static void test_conn_state(void)
{
	struct mg_mgr mgr;
	state_t server = { .first_ev = -1 }, client = { .first_ev = -1 };
	char url[64], why[160];
	core_mgr_init(&mgr);
	struct mg_connection* l = xm_core_open(&mgr, true, XM_CORE_OPEN_RAW, "tcp://127.0.0.1:0", NULL, on_event, &server, why, sizeof(why));
	CHECK(l != NULL);
	CHECK(server.core.c == l && server.core.id == l->id && server.first_ev == MG_EV_OPEN);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", (unsigned)mg_ntohs(l->loc.port));
	struct mg_connection* c = xm_core_open(&mgr, false, XM_CORE_OPEN_RAW, url, NULL, on_event, &client, why, sizeof(why));
	CHECK(c != NULL && client.core.c == c && client.first_ev == MG_EV_OPEN);
	for (int i = 0; i < 200 && !server.accepted; i++)
		mg_mgr_poll(&mgr, 10);
	CHECK_EQ(server.accepted, 1);
	state_t* a = &adopted[0];
	CHECK(a->seen == l && a->first_ev == MG_EV_OPEN);
	CHECK(a->core.c != NULL && a->core.c != l && a->core.c != c && a->core.c->fn_data == a);
	CHECK(a->core.c->is_accepted && a->core.id == a->core.c->id);
	CHECK(server.core.c == l && l->fn_data == &server);  // the listener's own stays
	mg_mgr_free(&mgr);
	CHECK(server.core.c == NULL && client.core.c == NULL && a->core.c == NULL);
}

const test_case_t core_conn_tests[] = {
	{ "core: conn state, bound at an open's first event, adopted by an accepted connection", test_conn_state, false },
	{ NULL, NULL, false },
};
