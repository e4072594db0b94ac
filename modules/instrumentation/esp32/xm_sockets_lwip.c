// SPDX-License-Identifier: MIT
// "Network Sockets" on the boards: lwIP's sockets in use, listeners and
// connections alike, and each Manager's wakeup socket (mongoose's pipe is a
// UDP socket on lwIP). lwIP keeps no count outside its optional statistics,
// so each of its MEMP_NUM_NETCONN descriptors is asked for its flags: a free
// one answers EBADF. The same code runs on the ESP32 (whose lwIP descriptors
// are the VFS's, from LWIP_SOCKET_OFFSET) and on the virtual board.
#include "xm_instrumentation.h"

#include "lwip/sockets.h"

bool xm_instrumentation_sockets(uint32_t* count)
{
	*count = 0;
	for (int fd = LWIP_SOCKET_OFFSET; fd < LWIP_SOCKET_OFFSET + MEMP_NUM_NETCONN; fd++)
		if (lwip_fcntl(fd, F_GETFL, 0) >= 0)
			(*count)++;
	return true;
}
