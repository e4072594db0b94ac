// SPDX-License-Identifier: MIT
// TLS options and their checks, shared by Connection.tlsInit (the Manager) and
// the AsyncManager's listen/connect/fetch: mongoose's built-in TLS reports most
// mistakes only in its log, and the handshake fails later, far from the cause.

/**
 * TLS for one connection, with mongoose's built-in TLS 1.3: certificates and keys
 * on the P-256 curve (ECDSA), PEM text or DER bytes.
 */
export interface TlsOptions {
  /** CA certificate the peer's chain must lead to; without it the chain is not checked. */
  ca?: string | Uint8Array;
  /** This side's certificate (a server's, or a client's for mutual TLS). */
  cert?: string | Uint8Array;
  /** The certificate's key: PEM "EC PRIVATE KEY" (SEC1) or its DER; PKCS#8 is not supported. */
  key?: string | Uint8Array;
  /** The server's DNS name: sent as SNI, and the certificate must carry it (SAN or CN). */
  name?: string;
  /** Accepts any certificate chain and signature (the name is still checked). */
  skipVerification?: boolean;
}

const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/;

function checkPem(what: string, part: string, value: string | Uint8Array | undefined, label: string): void {
  if (value === undefined) return;
  if (typeof value !== "string") {
    if (ArrayBuffer.isView(value) || (value as unknown) instanceof ArrayBuffer) return;  // DER
    throw new TypeError(`${what}: ${part} must be PEM text or DER bytes, got ${typeof value}`);
  }
  const found = PEM_LABEL.exec(value)?.[1];
  if (found === undefined || found === label) return;
  if (part === "key" && found === "PRIVATE KEY")
    throw new TypeError(`${what}: the key is PKCS#8 (BEGIN PRIVATE KEY), which mongoose's built-in TLS cannot read; ` +
      "convert it with `openssl ec -in key.pem -out key-ec.pem` (BEGIN EC PRIVATE KEY)");
  throw new TypeError(`${what}: ${part} must be PEM "${label}", got "${found}"`);
}

/**
 * Throws a TypeError, its message starting with what, for options mongoose would
 * take and then fail on. client: the side that connects (it must name the server).
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
  // The built-in TLS matches the server's certificate against name even with
  // skipVerification, so without one every handshake fails.
  if (client && !options.name)
    throw new TypeError(`${what}: a client needs name (the server's DNS name in its certificate), even with skipVerification`);
}
