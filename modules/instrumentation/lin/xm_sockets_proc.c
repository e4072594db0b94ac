// SPDX-License-Identifier: MIT
// "Network Sockets" in the simulator: the process's file descriptors that are
// sockets, as /proc/self/fd shows them. That is every socket mongoose holds
// (listeners, connections, and each Manager's wakeup pair) and any other a
// native module opened; the simulator opens no socket of its own.
#include "xm_instrumentation.h"

#include <dirent.h>
#include <string.h>
#include <unistd.h>

bool xm_instrumentation_sockets(uint32_t* count)
{
	DIR* fds = opendir("/proc/self/fd");
	if (!fds)
		return false;
	*count = 0;
	char target[32];
	for (struct dirent* e; (e = readdir(fds));) {
		ssize_t n = readlinkat(dirfd(fds), e->d_name, target, sizeof(target) - 1);
		if (n >= 7 && !memcmp(target, "socket:", 7))
			(*count)++;
	}
	closedir(fds);
	return true;
}
