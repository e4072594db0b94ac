// SPDX-License-Identifier: MIT
// C functions of the binding's networking extras (c/xm_mg_net.c); only the TypeScript modules next to this call them.
export function managerDns(manager, url, timeoutMs) @ "xm_mg_manager_dns";
