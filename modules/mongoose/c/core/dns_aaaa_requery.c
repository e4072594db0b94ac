// SPDX-License-Identifier: MIT
// mongoose bug (seen in 7.23, MG_ENABLE_IPV6): its resolver answers a response
// without an A record by asking for AAAA, and a response without an AAAA record
// by asking for AAAA again, so a name that does not exist is asked for in a
// loop (11,565 queries in one test run) and its connection never fails.
// Events: the client's MG_EV_RESOLVE; dns_cb's MG_EV_READ of each answer,
// each sending the AAAA question again; no MG_EV_ERROR ever.
// Fix: in front of dns_cb, an AAAA response without an AAAA record has its
// question and answer counts zeroed, so that dns_cb fails the lookup: the
// client gets MG_EV_ERROR "DNS lookup failed" (without the name, which
// mongoose's message takes from the question).
#include "xm_core.h"

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

bool xm_core_dns_aaaa_unanswered(const uint8_t* p, size_t len)
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

static void guard(struct mg_connection* c, int ev, void* ev_data)
{
	if (ev == MG_EV_READ && xm_core_dns_aaaa_unanswered(c->recv.buf, c->recv.len))
		memset(c->recv.buf + 4, 0, 4);  // no question, no answer: "DNS lookup failed"
	xm_core_unwrapped(XM_CORE_DNS, c, ev, ev_data);
}

void xm_core_dns_aaaa_requery(struct mg_mgr* mgr)
{
	xm_core_wrap(mgr->dns4.c, XM_CORE_DNS, guard, true);
	xm_core_wrap(mgr->dns6.c, XM_CORE_DNS, guard, true);
}
