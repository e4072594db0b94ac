// SPDX-License-Identifier: MIT
// The C baseline of bench/bridge: a TCP echo on mongoose's own loop, what the
// firmwares' echo handlers do in TypeScript. Usage: echo PORT POLL_MS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "mongoose.h"

static volatile sig_atomic_t stopping;

static void stop(int sig)
{
	(void)sig;
	stopping = 1;
}

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
	char url[64];
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%s", argc > 1 ? argv[1] : "8000");
	int poll_ms = argc > 2 ? atoi(argv[2]) : 10;
	struct mg_mgr mgr;
	mg_mgr_init(&mgr);
	mg_log_set(MG_LL_ERROR);
	if (!mg_listen(&mgr, url, on_event, NULL))
		return 1;
	signal(SIGTERM, stop);
	signal(SIGINT, stop);
	printf("ready\n");
	fflush(stdout);
	while (!stopping)
		mg_mgr_poll(&mgr, poll_ms);
	mg_mgr_free(&mgr);
	return 0;
}
