// SPDX-License-Identifier: MIT
// The board's lwIP hooks (LWIP_HOOK_FILENAME, set in xm_host_config.h), read by
// lwIP's own sources only.
#ifndef XM_QEMU_LWIP_HOOKS_H
#define XM_QEMU_LWIP_HOOKS_H

#include "lwip/err.h"
#include "lwip/pbuf.h"

struct tcp_pcb;
struct tcp_hdr;

// tcp_cap.c: a SYN finding MEMP_NUM_TCP_PCB connections open is dropped, one
// finding the count reached with TIME_WAIT ones ends the oldest of those.
err_t board_tcp_inpacket(struct tcp_pcb* pcb, struct tcp_hdr* hdr, u16_t optlen, u16_t opt1len, u8_t* opt2, struct pbuf* p);
#define LWIP_HOOK_TCP_INPACKET_PCB board_tcp_inpacket

#endif
