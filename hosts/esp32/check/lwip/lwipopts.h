// SPDX-License-Identifier: MIT
// The lwIP options of the check build (what mongoose is compiled against) and
// of the virtual board (hosts/qemu, which runs lwIP with them), in place of
// ESP-IDF's lwipopts.h (which a board build takes from sdkconfig). The values
// that shape what mongoose sees follow ESP-IDF 5.x: BSD sockets with select and
// poll, IPv4 and IPv6, the loopback interface (mongoose's wakeup datagrams),
// SO_REUSEADDR, the C library's errno and struct timeval, and the socket and
// mailbox counts of xm_host_config.h. One difference: ESP-IDF maps socket() and
// friends to lwip_*() with inline functions and routes close() and select()
// through its VFS; here LWIP_COMPAT_SOCKETS maps them with macros.
#ifndef XM_LWIPOPTS_H
#define XM_LWIPOPTS_H

#include "xm_host_config.h"

#define NO_SYS 0
#define SYS_LIGHTWEIGHT_PROT 1
#define LWIP_TCPIP_CORE_LOCKING 0
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 4

#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_IGMP 1
#define LWIP_DNS 1
#define LWIP_DHCP 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 1

#define LWIP_NETCONN 1
#define LWIP_SOCKET 1
#define LWIP_COMPAT_SOCKETS 1
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SOCKET_SELECT 1
#define LWIP_SOCKET_POLL 1
#define LWIP_SO_RCVBUF 1
#define LWIP_SO_SNDTIMEO 1
#define LWIP_SO_RCVTIMEO 1
#define SO_REUSE 1
#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_NETCONN_SEM_PER_THREAD 0

#define MEMP_NUM_NETCONN XM_HOST_LWIP_MAX_SOCKETS
#define MEMP_NUM_TCP_PCB XM_HOST_LWIP_TCP_PCBS
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define MEMP_NUM_UDP_PCB 16
#define DEFAULT_UDP_RECVMBOX_SIZE XM_HOST_LWIP_UDP_RECVMBOX
#define DEFAULT_TCP_RECVMBOX_SIZE XM_HOST_LWIP_TCP_RECVMBOX
#define DEFAULT_ACCEPTMBOX_SIZE XM_HOST_LWIP_ACCEPTMBOX
// As ESP-IDF's lwipopts.h: a listener takes at most its listen() backlog of
// connections not yet accepted and drops SYNs beyond it, which the clients
// send again; mongoose listens with the accept mailbox's length
// (mongoose_config.h). Without it a burst overflowed the accept mailbox and
// lwIP reset the connections it had no room for.
#define TCP_LISTEN_BACKLOG 1
#define TCPIP_MBOX_SIZE XM_HOST_LWIP_TCPIP_MBOX
// ESP-IDF 5.x's TCP defaults (CONFIG_LWIP_TCP_MSS, _SND_BUF_DEFAULT,
// _WND_DEFAULT): full Ethernet segments, where lwIP's own MSS is 536 bytes.
#define TCP_MSS 1440
#define TCP_SND_BUF (4 * TCP_MSS)
#define TCP_WND (4 * TCP_MSS)
#define TCPIP_THREAD_PRIO 18
#define TCPIP_THREAD_STACKSIZE 3072
#define DEFAULT_THREAD_STACKSIZE 3072

#endif
