// SPDX-License-Identifier: MIT
// Name resolution settings of a Manager. mongoose resolves names other than
// "localhost" and IP addresses with DNS over UDP, to 8.8.8.8 by default: a
// device gets its server from DHCP, a test runs its own.
#include <stdatomic.h>
#include "xm_mg.h"

// dns(manager, url, timeoutMs): url "udp://host:port" or undefined, timeoutMs > 0 or undefined
void xm_mg_manager_dns(xsMachine* the)
{
	xm_mg_t* m = xm_mg_manager(the, &xsArg(0));
	if (xsTypeOf(xsArg(1)) != xsUndefinedType) {
		const char* url = xsToString(xsArg(1));
		if (strncmp(url, "udp://", 6) != 0 || mg_url_port(url) == 0)
			xsURIError("DNS server %s: expected udp://host:port", url);
		if (m->mgr.dns4.c || m->mgr.dns6.c)
			xsUnknownError("DNS server %s: this Manager already talks to one", url);
		char* copy = strdup(url);
		if (!copy)
			xsUnknownError("no memory for the DNS server URL");
		free(m->dns);
		m->dns = copy;
		// mongoose asks dns6 for an AAAA record when there is no A record.
		m->mgr.dns4.url = m->mgr.dns6.url = m->dns;
	}
	if (xsTypeOf(xsArg(2)) != xsUndefinedType) {
		double ms = xsToNumber(xsArg(2));
		if (!(ms >= 1 && ms <= 3600000))
			xsRangeError("DNS timeout must be 1..3600000 ms, got %g", ms);
		m->mgr.dnstimeout = (int)ms;
	}
}

// The DNS guard. With IPv6 enabled, mongoose answers a response without an A
// record by asking for AAAA, and a response without an AAAA record by asking
// for AAAA again: a name that does not exist is asked for in a loop (thousands
// of queries a second) and its connection never fails. The guard hides the
// question of such an AAAA response, so that mongoose reports the lookup failed.

// mongoose's resolver (dns_cb, a protocol handler), saved when wrapped. Atomic: the
// Manager (XS task) and the AsyncManager (poll task) both store it, the same value.
static _Atomic(mg_event_handler_t) dns_protocol;

enum { DNS_HEADER = 12, DNS_TYPE_AAAA = 28 };

static unsigned be16(const uint8_t* p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

// The offset after the name at `at`, or 0 when it runs past the message.
static size_t skip_name(const uint8_t* p, size_t len, size_t at)
{
	while (at < len) {
		uint8_t n = p[at];
		if ((n & 0xc0) == 0xc0)
			return at + 2 <= len ? at + 2 : 0;  // a pointer ends the name
		if (n == 0)
			return at + 1;
		at += 1 + (size_t)n;
	}
	return 0;
}

static bool aaaa_without_answer(const uint8_t* p, size_t len)
{
	if (len < DNS_HEADER || !(p[2] & 0x80) || be16(p + 4) != 1)
		return false;  // not a response to one question
	size_t at = skip_name(p, len, DNS_HEADER);
	if (!at || at + 4 > len || be16(p + at) != DNS_TYPE_AAAA)
		return false;
	at += 4;
	for (unsigned i = 0, answers = be16(p + 6); i < answers; i++) {
		at = skip_name(p, len, at);
		if (!at || at + 10 > len)
			return true;  // cut short: nothing usable
		unsigned type = be16(p + at), size = be16(p + at + 8);
		if (type == DNS_TYPE_AAAA && size == 16)
			return false;
		at += 10 + size;
	}
	return true;
}

static void dns_guard(struct mg_connection* c, int ev, void* ev_data)
{
	if (ev == MG_EV_READ && aaaa_without_answer(c->recv.buf, c->recv.len))
		memset(c->recv.buf + 4, 0, 4);  // no question, no answer: "DNS lookup failed"
	atomic_load_explicit(&dns_protocol, memory_order_relaxed)(c, ev, ev_data);
}

static void guard_dns(struct mg_connection* c)
{
	if (!c || !c->pfn || c->pfn == dns_guard)
		return;
	mg_event_handler_t saved = atomic_load_explicit(&dns_protocol, memory_order_relaxed);
	if (saved && saved != c->pfn)
		return;  // not mongoose's resolver: leave it alone
	atomic_store_explicit(&dns_protocol, c->pfn, memory_order_relaxed);
	c->pfn = dns_guard;
}

void xm_mg_dns_guard(struct mg_mgr* mgr)
{
	guard_dns(mgr->dns4.c);
	guard_dns(mgr->dns6.c);
}
