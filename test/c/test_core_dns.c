// SPDX-License-Identifier: MIT
// The DNS AAAA guard (core/dns_aaaa_requery.c): mongoose's resolver against a
// DNS server on a local UDP socket that knows no name.
#define _GNU_SOURCE
#include "check.h"
#include "core_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
	int fd;
	char url[64];
	int queries[2];  // A, AAAA questions seen
} dns_server_t;

static bool server_open(dns_server_t* s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr*)&a, sizeof(a)) != 0 || getsockname(s->fd, (struct sockaddr*)&a, &len) != 0)
		return false;
	snprintf(s->url, sizeof(s->url), "udp://127.0.0.1:%u", ntohs(a.sin_port));
	return true;
}

// Answers every question waiting with "no such record" (NOERROR, no answer,
// as a server does for a name without that record type).
static void server_answer(dns_server_t* s)
{
	uint8_t buf[512];
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	struct pollfd p = { s->fd, POLLIN, 0 };
	while (poll(&p, 1, 0) == 1) {
		ssize_t n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr*)&from, &len);
		if (n < 17)
			continue;
		unsigned type = (unsigned)(buf[n - 4] << 8 | buf[n - 3]);  // the question's QTYPE
		s->queries[type == 28]++;
		buf[2] = 0x81, buf[3] = 0x80;  // a response, recursion available, NOERROR
		sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr*)&from, len);
	}
}

// Polls mgr (guarding its resolvers first, as both front ends do) until the
// client fails or rounds run out; wrap false: mongoose alone.
static void resolve_unknown(dns_server_t* server, recorder_t* rec, bool wrap, int rounds)
{
	struct mg_mgr mgr;
	core_mgr_init(&mgr);
	mgr.dns4.url = mgr.dns6.url = server->url;
	mgr.dnstimeout = 60000;  // no timeout within the test: only the answers count
	struct mg_connection* c = mg_connect(&mgr, "tcp://no-such-name.test:80", core_record, rec);
	CHECK(c != NULL);
	for (int i = 0; i < rounds && !core_seen(rec, MG_EV_ERROR); i++) {
		if (wrap)
			xm_core_dns_aaaa_requery(&mgr);
		mg_mgr_poll(&mgr, 5);
		server_answer(server);
	}
	mg_mgr_free(&mgr);
}

static void test_mongoose_asks_aaaa_again(void)
{
	dns_server_t server;
	recorder_t rec = { 0 };
	CHECK(server_open(&server));
	resolve_unknown(&server, &rec, false, 40);
	CHECK_EQ(server.queries[0], 1);
	CHECK(server.queries[1] > 5);  // the loop: every empty AAAA answer asks again
	close(server.fd);
}

static void test_lookup_fails(void)
{
	dns_server_t server;
	recorder_t rec = { 0 };
	CHECK(server_open(&server));
	resolve_unknown(&server, &rec, true, 40);
	CHECK_EQ(server.queries[0], 1);
	CHECK_EQ(server.queries[1], 1);
	CHECK_EQ(core_seen(&rec, MG_EV_ERROR), 1);
	CHECK(strstr(rec.error, "DNS lookup failed") != NULL);
	close(server.fd);
}

// A response to one question: name "a", type, then answers.
static size_t response(uint8_t* out, unsigned qtype, unsigned answers, const uint8_t* records, size_t size)
{
	static const uint8_t head[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0 };
	memcpy(out, head, sizeof(head));
	out[7] = (uint8_t)answers;
	size_t n = sizeof(head);
	out[n++] = (uint8_t)(qtype >> 8), out[n++] = (uint8_t)qtype, out[n++] = 0, out[n++] = 1;
	if (size)
		memcpy(out + n, records, size);
	return n + size;
}

static void test_aaaa_unanswered(void)
{
	uint8_t p[256];
	static const uint8_t aaaa[] = { 0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16,
		0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t cname[] = { 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12 };
	CHECK(xm_core_dns_aaaa_unanswered(p, response(p, 28, 0, NULL, 0)));
	CHECK(!xm_core_dns_aaaa_unanswered(p, response(p, 28, 1, aaaa, sizeof(aaaa))));
	CHECK(xm_core_dns_aaaa_unanswered(p, response(p, 28, 1, cname, sizeof(cname))));
	// A CNAME, then the address.
	uint8_t both[sizeof(cname) + sizeof(aaaa)];
	memcpy(both, cname, sizeof(cname));
	memcpy(both + sizeof(cname), aaaa, sizeof(aaaa));
	CHECK(!xm_core_dns_aaaa_unanswered(p, response(p, 28, 2, both, sizeof(both))));
	// An answer cut short is no answer.
	CHECK(xm_core_dns_aaaa_unanswered(p, response(p, 28, 1, aaaa, 11)));
	// Not an AAAA response, not a response, a short packet: not ours.
	CHECK(!xm_core_dns_aaaa_unanswered(p, response(p, 1, 0, NULL, 0)));
	size_t n = response(p, 28, 0, NULL, 0);
	p[2] = 0x01;
	CHECK(!xm_core_dns_aaaa_unanswered(p, n));
	CHECK(!xm_core_dns_aaaa_unanswered(p, 11));
	// A question name running past the end.
	n = response(p, 28, 0, NULL, 0);
	p[12] = 60;
	CHECK(!xm_core_dns_aaaa_unanswered(p, n));
}

const test_case_t core_dns_tests[] = {
	{ "core: mongoose asks for AAAA again and again", test_mongoose_asks_aaaa_again, false },
	{ "core: dns_aaaa_requery fails the lookup", test_lookup_fails, false },
	{ "core: dns AAAA answer check", test_aaaa_unanswered, false },
	{ NULL, NULL, false },
};
