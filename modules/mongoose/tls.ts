// SPDX-License-Identifier: MIT
// TLS options and their checks, shared by Connection.tlsInit (the Manager) and
// the AsyncManager's listen/connect/fetch: mongoose's built-in TLS reports most
// mistakes only in its log, and the handshake fails later, far from the cause.
import { base64Decode, urlHost, urlIsSsl } from "mongoose/util";

/**
 * TLS for one connection, with mongoose's built-in TLS 1.3: certificates and keys
 * on the P-256 curve (ECDSA), PEM text or DER bytes.
 */
export interface TlsOptions {
  /** CA certificate the peer's chain must lead to; without it the chain is not checked. */
  ca?: string | Uint8Array;
  /** This side's certificate (a server's, or a client's for mutual TLS). */
  cert?: string | Uint8Array;
  /** The certificate's key: PEM "EC PRIVATE KEY" (SEC1) or "PRIVATE KEY" (PKCS#8) of a P-256 key, or DER. */
  key?: string | Uint8Array;
  /**
   * The server's name: sent as SNI, and the certificate must carry it (a DNS name
   * in its SAN or CN, or, for an IP address, an IP entry of its SAN).
   */
  name?: string;
  /** Accepts any certificate chain and signature (a name given is still checked). */
  skipVerification?: boolean;
}

const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/;

// A PKCS#8 PrivateKeyInfo names its algorithm near its start: id-ecPublicKey with
// the prime256v1 curve, the only kind mongoose's built-in TLS signs with (it
// reads RSA keys too, but its RSA signing failed every handshake we tried).
const P256_ALGORITHM = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

function isP256Pkcs8(pem: string): boolean {
  let der: Uint8Array;
  try {
    der = base64Decode(pem.replace(/-----[^-]+-----|\s/g, ""));
  } catch {
    return false;
  }
  for (let at = 0; at + P256_ALGORITHM.length <= Math.min(der.length, 40); at++)
    if (P256_ALGORITHM.every((b, i) => der[at + i] === b)) return true;
  return false;
}

function checkPem(what: string, part: string, value: string | Uint8Array | undefined, label: string): void {
  if (value === undefined) return;
  if (typeof value !== "string") {
    if (ArrayBuffer.isView(value) || (value as unknown) instanceof ArrayBuffer) return;  // DER
    throw new TypeError(`${what}: ${part} must be PEM text or DER bytes, got ${typeof value}`);
  }
  const found = PEM_LABEL.exec(value)?.[1];
  if (found === undefined || found === label) return;
  if (part === "key" && found === "PRIVATE KEY") {
    if (isP256Pkcs8(value)) return;
    throw new TypeError(`${what}: the key is PKCS#8 (BEGIN PRIVATE KEY) but not an EC P-256 key, the only kind ` +
      "mongoose's built-in TLS signs with");
  }
  const pkcs8 = part === "key" ? ' or "PRIVATE KEY" (PKCS#8)' : "";
  throw new TypeError(`${what}: ${part} must be PEM "${label}"${pkcs8}, got "${found}"`);
}

/**
 * Throws a TypeError, its message starting with what, for options mongoose would
 * take and then fail on. client: the side that connects (it names the server unless it
 * skips verification).
 */
export function checkTlsOptions(what: string, options: TlsOptions, client: boolean): void {
  if (typeof options !== "object" || options === null) throw new TypeError(`${what}: TLS options must be an object`);
  checkPem(what, "ca", options.ca, "CERTIFICATE");
  checkPem(what, "cert", options.cert, "CERTIFICATE");
  checkPem(what, "key", options.key, "EC PRIVATE KEY");
  if (options.name !== undefined && typeof options.name !== "string")
    throw new TypeError(`${what}: name must be a string, got ${typeof options.name}`);
  if ((options.cert === undefined) !== (options.key === undefined))
    throw new TypeError(`${what}: cert and key go together`);
  // Without a name the built-in TLS checks no name at all: any certificate from the CA would pass.
  if (client && !options.name && !options.skipVerification)
    throw new TypeError(`${what}: a client that verifies its server needs name (the server's name in its certificate)`);
}

/**
 * The TLS options a listen or connect goes with (undefined for a plain URL), checked
 * here so that a mistake throws at the call: on the poll task it would only fail the
 * handshake. A client must say how to trust its server, as mongoose has no CA store.
 */
export function tlsFor(what: string, url: string, tls: TlsOptions | undefined, client: boolean): TlsOptions | undefined {
  if (!urlIsSsl(url)) {
    if (tls !== undefined) throw new TypeError(`${what}: tls options need a TLS URL (https://, wss://, mqtts://, tls://, ssl://, tcps://)`);
    return undefined;
  }
  if (!client) {
    if (!tls?.cert) throw new TypeError(`${what}: a TLS server needs tls: { cert, key }`);
    checkTlsOptions(what, tls, false);
    return tls;
  }
  if (!tls || (!tls.ca && !tls.skipVerification))
    throw new TypeError(`${what}: a TLS client needs tls.ca (the CA its server's certificate must lead to), or tls.skipVerification: true not to verify its certificate (the name is still checked)`);
  const options = tls.name ? tls : { ...tls, name: urlHost(url).replace(/^\[(.*)\]$/, "$1") };
  checkTlsOptions(what, options, true);
  return options;
}
