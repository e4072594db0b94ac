// SPDX-License-Identifier: MIT
// mongoose writes a connection's buffered bytes only in a later mg_mgr_poll: it
// first asks epoll for EPOLLOUT (epoll_ctl), waits for it, writes, then takes
// the interest back (epoll_ctl again). Bytes queued on a connection whose
// buffer was empty, by an AsyncManager's command or by a Manager's handler
// answering an event, can go at once: the socket is nearly always writable, and
// nothing is asked of epoll.
#include "xm_core.h"

void xm_core_fresh_add(xm_core_fresh_t* f, struct mg_connection* c, size_t before)
{
	if (!before && c->send.len && f->count < (int)(sizeof(f->conns) / sizeof(f->conns[0])))
		f->conns[f->count++] = c;
}

void xm_core_fresh_forget(xm_core_fresh_t* f, struct mg_connection* c)
{
	// Every entry: a buffer emptied other than by a write could let c join twice.
	for (int i = f->count - 1; i >= 0; i--)
		if (f->conns[i] == c)
			f->conns[i] = f->conns[--f->count];
}

static void send_now(struct mg_connection* c)
{
#if MG_ENABLE_SOCKET
	// What mongoose's own loop would not write now, or writes otherwise (TLS
	// encrypts, UDP is sent by mg_send itself).
	if (!c->send.len || c->is_tls || c->is_udp || c->is_listening || c->is_connecting || c->is_resolving ||
		c->is_closing)
		return;
	long n = mg_io_send(c, c->send.buf, c->send.len);
	if (n == MG_IO_WAIT)
		return;  // the rest waits for mongoose's loop, as it would have
	if (n <= 0) {
		c->is_closing = 1;  // as mongoose does on a failed send
		return;
	}
	mg_iobuf_del(&c->send, 0, (size_t)n);
	mg_call(c, MG_EV_WRITE, &n);
#else
	(void)c;
#endif
}

void xm_core_fresh_send(xm_core_fresh_t* f)
{
	for (int i = 0; i < f->count; i++)
		send_now(f->conns[i]);
	f->count = 0;
}
