// SPDX-License-Identifier: MIT
// libFuzzer target: DNS responses, through the core's AAAA guard
// (core/dns_aaaa_requery.c) and mongoose's resolver (dns_cb, mg_dns_parse)
// behind it. Each input resolves a name: mongoose sends its question to a
// local UDP socket, the input answers it (its first two bytes become the
// question's id, or mongoose drops it as stray). The first byte is the length
// of that answer; the rest answers the AAAA question mongoose may ask next.
#include "core_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int server = -1;
static char url[64];

static void server_open(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	server = socket(AF_INET, SOCK_DGRAM, 0);
	if (server < 0 || bind(server, (struct sockaddr*)&a, sizeof(a)) != 0 || getsockname(server, (struct sockaddr*)&a, &len) != 0)
		abort();
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", ntohs(a.sin_port));
}

// The id of the last question waiting at the server (-1: none), the others dropped.
static long question_id(int wait_ms)
{
	uint8_t q[512];
	long id = -1;
	struct pollfd p = { server, POLLIN, 0 };
	while (poll(&p, 1, id < 0 ? wait_ms : 0) == 1) {
		ssize_t n = recv(server, q, sizeof(q), 0);
		if (n >= 2)
			id = q[0] << 8 | q[1];
	}
	return id;
}

// Feeds an answer to a resolver connection, its id set to the question's.
static void answer(struct mg_connection* dns, long id, const uint8_t* data, size_t size)
{
	if (!dns || id < 0 || size < 2)
		return;
	mg_iobuf_add(&dns->recv, dns->recv.len, data, size);
	dns->recv.buf[0] = (uint8_t)(id >> 8);
	dns->recv.buf[1] = (uint8_t)id;
	long n = (long)size;
	mg_call(dns, MG_EV_READ, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	static struct mg_mgr mgr;
	if (server < 0) {
		server_open();
		core_mgr_init(&mgr);
		mgr.dns4.url = mgr.dns6.url = url;
		mgr.dnstimeout = 60000;
	}
	if (size < 1)
		return 0;
	size_t first = data[0] < size - 1 ? data[0] : size - 1;
	struct mg_connection* c = mg_connect(&mgr, "udp://fuzz.test:9", core_record, NULL);
	if (!c)
		return 0;
	xm_core_dns_aaaa_requery(&mgr);
	answer(mgr.dns4.c, question_id(100), data + 1, first);
	xm_core_dns_aaaa_requery(&mgr);  // a resolver for AAAA made since
	answer(mgr.dns6.c, question_id(0), data + 1 + first, size - 1 - first);
	if (c->fd)  // resolved: mongoose opened the client's socket
		close((int)(size_t)c->fd);
	mg_close_conn(c);
	return 0;
}
