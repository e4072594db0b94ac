// SPDX-License-Identifier: MIT
// The type of mongoose/limits, whose value is per host (lin/limits.ts,
// esp32/limits.ts, picked by the manifest's platforms): for editors and for
// `tsc --noEmit` in an app, which see no host.

/** The most bytes one Manager.wakeup() carries on this host (XM_MG_WAKEUP_MAX). */
export declare const WAKEUP_MAX_BYTES: number;
