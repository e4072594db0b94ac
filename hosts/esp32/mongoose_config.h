// SPDX-License-Identifier: MIT
// mongoose's arch settings for ESP-IDF (read by mongoose.h when MG_ARCH is not
// set, as on this target): lwIP's BSD sockets, no built-in TCP/IP stack, our
// own clock and random source (mg_arch.c). The settings every host shares are
// in modules/mongoose/c/mg_config.h.
#ifndef XM_MONGOOSE_CONFIG_H
#define XM_MONGOOSE_CONFIG_H

#define MG_ARCH MG_ARCH_CUSTOM

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MG_ENABLE_LWIP 1
#define MG_ENABLE_SOCKET 1
#define MG_ENABLE_TCPIP 0
#define MG_ENABLE_CUSTOM_MILLIS 1
#define MG_ENABLE_CUSTOM_RANDOM 1
// No file system is served yet.
#define MG_ENABLE_POSIX_FS 0
#define MG_ENABLE_DIRLIST 0
#define MG_PATH_MAX 128
// listen()'s backlog: no more connections waiting for accept() than lwIP's
// accept mailbox holds (TCP_LISTEN_BACKLOG drops the SYNs of the rest, to be
// sent again), where mongoose's 128 let lwIP complete connections it then reset
// for want of room. Read where mongoose listens, after lwIP's options.
#define MG_SOCK_LISTEN_BACKLOG_SIZE DEFAULT_ACCEPTMBOX_SIZE

#endif
