// SPDX-License-Identifier: MIT
// Name resolution settings of a Manager. mongoose resolves names other than
// "localhost" and IP addresses with DNS over UDP, to 8.8.8.8 by default: a
// device gets its server from DHCP, a test runs its own.
#include "xm_args.h"

// dns(manager, url, timeoutMs): url "udp://host:port" or undefined, timeoutMs > 0 or undefined
void xm_mg_manager_dns(xsMachine* the)
{
	xm_mg_manager_dns_in_t a = xm_mg_manager_dns_in(the);
	xm_mg_t* m = a.manager;
	const char* url = a.url;
	if (url) {
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
		double ms = a.timeoutMs;
		if (!(ms >= 1 && ms <= 3600000))
			xsRangeError("DNS timeout must be 1..3600000 ms, got %g", ms);
		m->mgr.dnstimeout = (int)ms;
	}
}
