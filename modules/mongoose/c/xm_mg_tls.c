// SPDX-License-Identifier: MIT
// TLS on one connection with mongoose's built-in TLS (MG_TLS_BUILTIN): TLS 1.3,
// certificates and keys on the NIST P-256 curve. Servers call it on ACCEPT,
// clients on CONNECT (or right after connect()).
#include "xm_args.h"

enum { TLS_CA, TLS_CERT, TLS_KEY, TLS_NAME, TLS_PARTS };

// mongoose checks certificate dates against mg_now(), mg_millis() plus
// mg_boot_timestamp_ms, which only its SNTP client sets. While that is 0 every
// certificate is "not yet valid" (skipVerification included), and a client with
// a CA first asks time.google.com for the date, over the Manager's DNS server,
// failing with "time sync failed" when it cannot. A host that knows the date
// gives it to mongoose here. The global belongs to the task that polls the
// connection's manager (mongoose's SNTP client writes it there, the handshake
// reads it there), so the options carry the date from the XS task, where
// xm_clock is read, and xm_mg_tls_init sets it on the polling task. A firmware
// that runs TLS or SNTP on a sync Manager and an AsyncManager at once still
// shares that one global of mongoose's between two tasks.
typedef struct {
	struct mg_tls_opts opts;  // first: free(&block->opts) frees the block
	uint64_t boot;            // the date at mg_millis() 0, or 0 if unknown
} tls_block_t;

void xm_mg_tls_init(struct mg_connection* c, const struct mg_tls_opts* opts)
{
	uint64_t boot = ((const tls_block_t*)opts)->boot;
	if (!mg_boot_timestamp_ms && boot)
		mg_boot_timestamp_ms = boot;
	mg_tls_init(c, opts);
}

// Copies: mongoose may report a bad part through an ERROR event, and JavaScript
// running then could move the strings; the AsyncManager keeps its copy on the
// poll task. One block, options first: freeing it frees every part. Each part ends
// with NUL, as mongoose copies the name with strncpy, which reads past its length
// otherwise.
struct mg_tls_opts* xm_mg_tls_options(xsMachine* the, int first)
{
	const void* data[TLS_PARTS] = { NULL };
	size_t size[TLS_PARTS] = { 0 }, total = sizeof(tls_block_t) + TLS_PARTS;
	for (int i = 0; i < TLS_PARTS; i++) {
		if (xsTypeOf(xsArg(first + i)) == xsUndefinedType)
			continue;
		xm_mg_bytes(the, &xsArg(first + i), &data[i], &size[i]);  // allocates nothing: the pointers stay valid
		total += size[i];
	}
	tls_block_t* block = malloc(total);
	if (!block)
		xsUnknownError("no memory for the TLS options");
	uint64_t epoch = xm_clock_epoch_ms();
	block->boot = epoch ? epoch - mg_millis() : 0;
	struct mg_str part[TLS_PARTS];
	char* at = (char*)(block + 1);
	for (int i = 0; i < TLS_PARTS; i++) {
		if (size[i])
			memcpy(at, data[i], size[i]);
		at[size[i]] = 0;
		part[i] = size[i] ? mg_str_n(at, size[i]) : mg_str_n(NULL, 0);  // empty is absent
		at += size[i] + 1;
	}
	block->opts = (struct mg_tls_opts) {
		.ca = part[TLS_CA], .cert = part[TLS_CERT], .key = part[TLS_KEY], .name = part[TLS_NAME],
		.skip_verification = xsTest(xsArg(first + TLS_PARTS)) ? 1 : 0,
	};
	return &block->opts;
}

// mongoose 7.23 compares a server certificate's SAN IP entries with the address
// the client is connected to (mg_tls_verify_cert_san is given &c->rem), whatever
// name the client asked for: a certificate that lists the server's own IP
// address passes for any name. While a client's handshake runs, c->rem holds
// instead the name's own address when the name is an IP address, and otherwise
// the unspecified address ::, which no certificate authority certifies. The
// socket is connected by then: mongoose sends on it without the address.

static void hide(xm_mg_tls_peer_t* p, struct mg_connection* c)
{
	p->real = c->rem;
	c->rem = p->check;
	c->rem.port = p->real.port;
	p->pending = false;
	p->hidden = true;
}

void xm_mg_tls_peer_init(xm_mg_tls_peer_t* p, struct mg_connection* c, struct mg_str name)
{
	if (!c->is_client || !c->is_tls_hs || p->hidden)
		return;
	struct mg_addr ip = { 0 };
	// mg_aton also reads "localhost" (and "") as an address: that is a DNS name.
	bool is_ip = name.len && mg_strcasecmp(name, mg_str("localhost")) != 0 && mg_aton(name, &ip);
	p->check = is_ip ? ip : (struct mg_addr) { .is_ip6 = true };
	if (c->is_resolving || c->is_connecting)
		p->pending = true;  // the resolver and connect() still need the real address
	else
		hide(p, c);
}

static void restore(xm_mg_tls_peer_t* p, struct mg_connection* c)
{
	if (p->hidden)
		c->rem = p->real;
	p->hidden = p->pending = false;
}

void xm_mg_tls_peer_event(xm_mg_tls_peer_t* p, struct mg_connection* c, int ev)
{
	if (p->pending && ev == MG_EV_CONNECT)
		hide(p, c);
	else if (ev == MG_EV_TLS_HS || ev == MG_EV_ERROR || ev == MG_EV_CLOSE)
		restore(p, c);
}

const struct mg_addr* xm_mg_tls_peer_real(const xm_mg_tls_peer_t* p, const struct mg_connection* c)
{
	return p->hidden ? &p->real : &c->rem;
}

// tlsInit(conn, ca, cert, key, name, skipVerification): each part a string,
// byte array or undefined.
void xm_mg_conn_tls_init(xsMachine* the)
{
	struct mg_connection* c = xm_mg_conn_tls_init_in(the).conn;
	if (c->tls)  // mg_tls_init would replace c->tls without freeing it (a leak of 2-3 KB)
		xsUnknownError("connection %lu already has TLS: tlsFree() it first", c->id);
	struct mg_tls_opts* opts = xm_mg_tls_options(the, 1);
	xm_mg_tls_init(c, opts);
	xm_mg_tls_peer_init(&xm_mg_conn(the, &xsArg(0))->peer, c, opts->name);
	free(opts);
}

// tlsFree(conn): mongoose only frees the state; the connection must stop using it too.
void xm_mg_conn_tls_free(xsMachine* the)
{
	struct mg_connection* c = xm_mg_conn_tls_free_in(the).conn;
	if (!c->tls)
		return;
	// Once connected, the peer speaks TLS: there is no going back to plain bytes.
	bool talking = !c->is_listening && !c->is_resolving && !c->is_connecting;
	restore(&xm_mg_conn(the, &xsArg(0))->peer, c);
	mg_tls_free(c);
	c->is_tls = c->is_tls_hs = 0;
	if (talking)
		c->is_closing = 1;
}
