// SPDX-License-Identifier: MIT
// The one way a workaround goes in front of mongoose: as a wrapper of a
// connection's protocol handler (c->pfn), which mongoose calls before the
// application's handler with the same event. mongoose's handlers (http_cb,
// mg_ws_cb, mqtt_cb, dns_cb) are static in mongoose.c, so the first connection
// wrapped shows the one of its kind, and it is kept here for the wrappers.
#include <stdatomic.h>
#include "xm_core.h"

// mongoose's handler per kind, saved by the first wrap. Two tasks wrap at once
// (a Manager's XS task and an AsyncManager's poll task). A compare-and-swap from
// NULL is enough, and relaxed order too: the value is a code address, the same
// for every connection of a kind, and publishes no other memory; and a task
// calls it only through a connection it wrapped itself, so after its own store,
// or its own load that saw the value.
static _Atomic(mg_event_handler_t) originals[XM_CORE_KINDS];

bool xm_core_wrap(struct mg_connection* c, xm_core_kind_t kind, mg_event_handler_t wrapper, bool is_mongoose)
{
	if (!c || !c->pfn)
		return false;
	if (c->pfn == wrapper)
		return true;
	mg_event_handler_t saved = NULL;
	if (!is_mongoose)
		saved = atomic_load_explicit(&originals[kind], memory_order_relaxed);
	else if (atomic_compare_exchange_strong_explicit(&originals[kind], &saved, c->pfn, memory_order_relaxed, memory_order_relaxed))
		saved = c->pfn;  // the first: saved now (else saved is what was there)
	if (saved != c->pfn)
		return false;  // not mongoose's handler of that kind (or none known yet): leave it alone
	c->pfn = wrapper;
	return true;
}

void xm_core_unwrapped(xm_core_kind_t kind, struct mg_connection* c, int ev, void* ev_data)
{
	atomic_load_explicit(&originals[kind], memory_order_relaxed)(c, ev, ev_data);
}

void xm_core_drop_input(struct mg_connection* c, int ev, void* ev_data)
{
	(void)ev_data;
	if (ev == MG_EV_READ)
		c->recv.len = 0;
}
