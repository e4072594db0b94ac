// SPDX-License-Identifier: MIT
// Module specifiers to image names (xm_resolve.c). Any task; no XS state.
#ifndef XM_RESOLVE_H
#define XM_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

// Writes the image name that spec (its extension stripped in place) names when
// imported from the module named from (NULL at the top level); false when a
// relative specifier cannot be resolved.
bool xm_resolve(const char* from, char* spec, char* out, size_t size);

#endif
