// SPDX-License-Identifier: MIT
// The loop the C baselines share: listen on 127.0.0.1:PORT (argv[1], default 8000)
// with fn, print "ready", poll every POLL_MS (argv[2], default 10) until SIGTERM
// or SIGINT. Usage of a baseline: NAME PORT POLL_MS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "mongoose.h"

typedef struct mg_connection* (*mg_listen_fn)(struct mg_mgr*, const char*, mg_event_handler_t, void*);

static volatile sig_atomic_t stopping;

static void stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static int mg_serve(int argc, char** argv, const char* scheme, mg_listen_fn listen, mg_event_handler_t fn)
{
	char url[64];
	snprintf(url, sizeof(url), "%s://127.0.0.1:%s", scheme, argc > 1 ? argv[1] : "8000");
	int poll_ms = argc > 2 ? atoi(argv[2]) : 10;
	struct mg_mgr mgr;
	mg_mgr_init(&mgr);
	mg_log_set(MG_LL_ERROR);
	if (!listen(&mgr, url, fn, NULL))
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
