// SPDX-License-Identifier: MIT
// mongoose's build configuration, the same for every host so that what the
// simulator accepts a device accepts too. Hosts add only their arch settings.
#ifndef XM_MG_CONFIG_H
#define XM_MG_CONFIG_H

#define MG_TLS MG_TLS_BUILTIN
#define MG_ENABLE_PACKED_FS 0
#define MG_ENABLE_IPV6 1
// mongoose's default is 3 MiB per connection: more than a device has in all.
#define MG_MAX_RECV_SIZE (256 * 1024)

#endif
