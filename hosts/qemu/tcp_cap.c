// SPDX-License-Identifier: MIT
// lwIP's TCP connection count, enforced as ESP-IDF's lwIP does. With
// MEMP_MEM_MALLOC lwIP takes its pcbs from malloc and never counts them against
// MEMP_NUM_TCP_PCB; ESP-IDF's lwIP patches tcp_alloc to count them
// (CONFIG_LWIP_MAX_ACTIVE_TCP), TIME_WAIT ones included, stock lwIP 2.2 does not.
// Uncounted, a burst of clients got connections beyond lwIP's sockets (mongoose's
// accept() failed with ENFILE and lwIP reset the client, its request unanswered),
// and each connection the board had closed stayed in TIME_WAIT for two minutes,
// 200 of them about 30 KB of the --ram budget. Here a SYN that finds
// MEMP_NUM_TCP_PCB connections open (not TIME_WAIT) is dropped, as lwIP drops one
// it has no memory for, and the client sends it again; one that finds the count
// reached with TIME_WAIT ones ends the oldest of them first, as lwIP itself does
// when it runs out of pcbs. Runs in lwIP's tcpip task, the only one that walks
// the pcb lists.
#include "lwip_hooks.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"

static unsigned count(struct tcp_pcb* list)
{
	unsigned n = 0;
	for (struct tcp_pcb* it = list; it; it = it->next)
		n++;
	return n;
}

err_t board_tcp_inpacket(struct tcp_pcb* pcb, struct tcp_hdr* hdr, u16_t optlen, u16_t opt1len, u8_t* opt2, struct pbuf* p)
{
	(void)optlen, (void)opt1len, (void)opt2, (void)p;
	if (pcb->state != LISTEN || (TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		return ERR_OK;
	unsigned open = count(tcp_active_pcbs);
	if (open >= MEMP_NUM_TCP_PCB)
		return ERR_MEM;
	if (open + count(tcp_tw_pcbs) >= MEMP_NUM_TCP_PCB) {
		struct tcp_pcb* oldest = tcp_tw_pcbs;
		for (struct tcp_pcb* it = tcp_tw_pcbs; it; it = it->next)
			if ((u32_t)(tcp_ticks - it->tmr) > (u32_t)(tcp_ticks - oldest->tmr))
				oldest = it;
		tcp_abort(oldest);
	}
	return ERR_OK;
}
