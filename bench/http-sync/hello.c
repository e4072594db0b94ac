// SPDX-License-Identifier: MIT
// The C baseline of bench/http-sync: mongoose's own loop answers every request
// with "hello\n", as the TypeScript firmware does. Usage: hello PORT POLL_MS
#include "../mg_serve.h"

static void on_event(struct mg_connection* c, int ev, void* ev_data)
{
	(void)ev_data;
	if (ev == MG_EV_HTTP_MSG)
		mg_http_reply(c, 200, "", "hello\n");
}

int main(int argc, char** argv)
{
	return mg_serve(argc, argv, "http", mg_http_listen, on_event);
}
