// SPDX-License-Identifier: MIT
// TLS peers for tests: self-signed P-256 certificates for mongoose's built-in TLS,
// and an https request that survives the known signing flaw of its TLS server.
import { execFileSync } from "child_process";
import crypto from "crypto";
import fs from "fs";
import https from "https";
import path from "path";

export interface KeyPair {
  /** PEM "EC PRIVATE KEY" (SEC1). */
  key: string;
  /** PEM "CERTIFICATE", self-signed, for localhost (SAN DNS:localhost and IP:127.0.0.1, unless asked otherwise). */
  cert: string;
}

interface DerItem {
  at: number;     // where its tag is
  start: number;  // where its contents start
  length: number;
}

// The DER items one after another in der[at, end).
function derItems(der: Buffer, at: number, end: number): DerItem[] {
  const out: DerItem[] = [];
  while (at < end) {
    let length = der[at + 1];
    let head = 2;
    if (length & 0x80) {
      const bytes = length & 0x7f;
      length = 0;
      for (let i = 0; i < bytes; i++) length = length * 256 + der[at + 2 + i];
      head += bytes;
    }
    out.push({ at, start: at + head, length });
    at += head + length;
  }
  return out;
}

function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
}

// Lengths of the r and s integers of a DER ECDSA signature (a SEQUENCE of two INTEGERs).
function integerLengths(signature: Buffer): number[] {
  const [sequence] = derItems(signature, 0, signature.length);
  return derItems(signature, sequence.start, sequence.start + sequence.length).map((integer) => integer.length);
}

// Lengths of the r and s integers of a PEM certificate's ECDSA signature.
export function signatureIntegerLengths(pem: string): number[] {
  const der = derOf(pem);
  const [certificate] = derItems(der, 0, der.length);
  const signature = derItems(der, certificate.start, certificate.start + certificate.length)[2];  // a BIT STRING
  return integerLengths(der.subarray(signature.start + 1, signature.start + signature.length));
}

function derItem(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

// The certificate signed again until r or s of its signature is shorter than 32
// bytes (about one ECDSA signature in 256): mongoose 7.19 could not check those.
function withShortSignature(pem: string, key: string): string {
  const der = derOf(pem);
  const [certificate] = derItems(der, 0, der.length);
  const [tbs, algorithm] = derItems(der, certificate.start, certificate.start + certificate.length);
  const signed = der.subarray(tbs.at, tbs.start + tbs.length);
  for (;;) {
    const signature = crypto.sign("sha256", signed, key);  // DER, with a fresh random k each time
    if (Math.min(...integerLengths(signature)) >= 32) continue;
    const body = Buffer.concat([signed, der.subarray(algorithm.at, algorithm.start + algorithm.length),
      derItem(0x03, Buffer.concat([Buffer.from([0]), signature]))]);
    const base64 = derItem(0x30, body).toString("base64").replace(/.{64}/g, "$&\n");
    return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
  }
}

export interface CertOptions {
  /** Sign until r or s of the certificate's signature is shorter than 32 bytes. */
  shortSignature?: boolean;
  /** subjectAltName (default "DNS:localhost,IP:127.0.0.1"). */
  san?: string;
}

/** A key and self-signed certificate for localhost, made by openssl in dir. */
export function makeCert(dir: string, name: string, options: CertOptions = {}): KeyPair {
  const k = path.join(dir, `${name}.key`);
  const c = path.join(dir, `${name}.crt`);
  execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", k]);
  execFileSync("openssl", ["req", "-new", "-x509", "-key", k, "-out", c, "-days", "2", "-subj", "/CN=localhost",
    "-addext", `subjectAltName=${options.san ?? "DNS:localhost,IP:127.0.0.1"}`]);
  const key = fs.readFileSync(k, "utf8");
  const cert = fs.readFileSync(c, "utf8");
  return { key, cert: options.shortSignature ? withShortSignature(cert, key) : cert };
}

// An https request (a GET without body), made once: a firmware TLS server's
// handshakes do not fail (see XM_MG_TLS_SIGN in modules/mongoose/c/mg_config.h).
// Resolves to "status body".
export function httpsRequest(options: https.RequestOptions, body?: Buffer): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = https.request({ method: body ? "POST" : "GET", agent: false, ...options }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve(`${res.statusCode} ${text}`));
    }).on("error", reject);
    req.end(body);
  });
}
