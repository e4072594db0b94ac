// SPDX-License-Identifier: MIT
// Deterministic "random" bytes (xorshift32), so that a failure can be replayed:
// NOISE_SOURCE is the TypeScript a firmware pastes in, noise() the same code here.
export const NOISE_SOURCE = `function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}`;

// The source above, types stripped: one definition for both sides.
// eslint-disable-next-line no-new-func
export const noise = new Function(`${NOISE_SOURCE.replace(/: number|: Uint8Array/g, "")}; return noise;`)() as
  (length: number, seed: number) => Uint8Array;
