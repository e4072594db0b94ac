// SPDX-License-Identifier: MIT
// The check build's and the virtual board's lwIP compiler/platform header, in
// place of ESP-IDF's.
#ifndef XM_LWIP_ARCH_CC_H
#define XM_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#ifndef BYTE_ORDER  // picolibc's sys/endian.h has it
#define BYTE_ORDER LITTLE_ENDIAN
#endif
#define LWIP_RAND() ((u32_t)rand())
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { printf("lwIP assertion: %s\n", x); abort(); } while (0)

#endif
