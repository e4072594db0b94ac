// SPDX-License-Identifier: MIT
// The state both front ends keep per connection, on fn_data: the only pointer
// mongoose copies from a listener to the connections it accepts, so each front
// end finds an accepted connection's listener the same way.
#include "xm_core.h"

xm_core_conn_t* xm_core_conn_of(struct mg_connection* c, xm_core_conn_t** listener)
{
	xm_core_conn_t* s = c->fn_data;
	*listener = NULL;
	if (s && !s->c)
		xm_core_conn_adopt(s, c);  // the first event of an open, before its opener returns
	if (s && s->c != c) {
		*listener = xm_core_limits_admit(c, s) ? s : NULL;
		return NULL;
	}
	return s;
}

void xm_core_conn_adopt(xm_core_conn_t* s, struct mg_connection* c)
{
	xm_core_conn_t* listener = c->fn_data;
	if (listener && listener != s)
		xm_core_limits_join(s, listener);
	s->c = c;
	s->id = c->id;
	c->fn_data = s;
}
