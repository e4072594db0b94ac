// SPDX-License-Identifier: MIT
// The C baseline of bench/bridge: a TCP echo on mongoose's own loop, what the
// firmwares' echo handlers do in TypeScript. Usage: echo PORT POLL_MS
#include "../mg_serve.h"

static void on_event(struct mg_connection* c, int ev, void* ev_data)
{
	(void)ev_data;
	if (ev == MG_EV_READ) {
		mg_send(c, c->recv.buf, c->recv.len);
		c->recv.len = 0;
	}
}

int main(int argc, char** argv)
{
	return mg_serve(argc, argv, "tcp", mg_listen, on_event);
}
