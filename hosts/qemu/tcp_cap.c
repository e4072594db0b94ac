// SPDX-License-Identifier: MIT
// lwIP's TCP connection count, enforced. With MEMP_MEM_MALLOC (as in ESP-IDF)
// lwIP takes its pcbs from malloc and never counts them against
// MEMP_NUM_TCP_PCB; ESP-IDF's own lwIP patches tcp_alloc to count them
// (CONFIG_LWIP_MAX_ACTIVE_TCP), stock lwIP 2.2 does not. Uncounted, a burst of
// clients got lwIP connections beyond its sockets: mongoose's accept() then
// failed with ENFILE and lwIP reset the connection, request unanswered. Here a
// SYN that finds MEMP_NUM_TCP_PCB connections open (TIME_WAIT ones are on their
// own list and do not count) is dropped, as lwIP drops one it has no memory
// for: the client sends it again and is served when a connection has closed.
// Runs in lwIP's tcpip task, the only one that walks its pcb lists.
#include "lwip_hooks.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"

err_t board_tcp_inpacket(struct tcp_pcb* pcb, struct tcp_hdr* hdr, u16_t optlen, u16_t opt1len, u8_t* opt2, struct pbuf* p)
{
	(void)optlen, (void)opt1len, (void)opt2, (void)p;
	if (pcb->state != LISTEN || !(TCPH_FLAGS(hdr) & TCP_SYN) || (TCPH_FLAGS(hdr) & TCP_ACK))
		return ERR_OK;
	unsigned open = 0;
	for (struct tcp_pcb* it = tcp_active_pcbs; it; it = it->next)
		open++;
	return open < MEMP_NUM_TCP_PCB ? ERR_OK : ERR_MEM;
}
