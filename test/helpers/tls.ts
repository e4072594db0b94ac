// SPDX-License-Identifier: MIT
// TLS peers for tests: self-signed P-256 certificates mongoose 7.19's built-in
// TLS can check, and an https request that survives its known signing flaw.
import { execFileSync } from "child_process";
import fs from "fs";
import https from "https";
import path from "path";

export interface KeyPair {
  /** PEM "EC PRIVATE KEY" (SEC1), the only key format the built-in TLS reads. */
  key: string;
  /** PEM "CERTIFICATE", self-signed, for localhost (SAN DNS:localhost and IP:127.0.0.1). */
  cert: string;
}

// Lengths of the r and s integers of a PEM certificate's ECDSA signature.
export function signatureIntegerLengths(pem: string): number[] {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const items = (at: number, end: number) => {
    const out: Array<{ start: number; length: number }> = [];
    while (at < end) {
      let length = der[at + 1];
      let head = 2;
      if (length & 0x80) {
        const bytes = length & 0x7f;
        length = 0;
        for (let i = 0; i < bytes; i++) length = length * 256 + der[at + 2 + i];
        head += bytes;
      }
      out.push({ start: at + head, length });
      at += head + length;
    }
    return out;
  };
  const [certificate] = items(0, der.length);
  const signature = items(certificate.start, certificate.start + certificate.length)[2];  // a BIT STRING
  const [sequence] = items(signature.start + 1, signature.start + signature.length);
  return items(sequence.start, sequence.start + sequence.length).map((integer) => integer.length);
}

/**
 * A key and self-signed certificate made by openssl in dir. mongoose 7.19 checks a
 * certificate's ECDSA signature wrongly when r or s is shorter than 32 bytes (one
 * certificate in 128): with checkable, only one it can check is returned.
 */
export function makeCert(dir: string, name: string, checkable = true): KeyPair {
  const k = path.join(dir, `${name}.key`);
  const c = path.join(dir, `${name}.crt`);
  for (;;) {
    execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", k]);
    execFileSync("openssl", ["req", "-new", "-x509", "-key", k, "-out", c, "-days", "2", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]);
    const pair = { key: fs.readFileSync(k, "utf8"), cert: fs.readFileSync(c, "utf8") };
    if (!checkable || Math.min(...signatureIntegerLengths(pair.cert)) >= 32) return pair;
  }
}

// An https request (a GET without body); mongoose 7.19's TLS server signs with a
// non-minimal DER integer when r or s starts with a zero byte, which OpenSSL
// refuses as "bad signature" (about one handshake in 300 here): such a failure is
// retried, and logged. Resolves to "status body".
export async function httpsRequest(options: https.RequestOptions, body?: Buffer): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const req = https.request({ method: body ? "POST" : "GET", agent: false, ...options }, (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(`${res.statusCode} ${text}`));
        }).on("error", reject);
        req.end(body);
      });
    } catch (error) {
      if (attempt >= 3 || !/bad signature/.test(String(error))) throw error;
      console.log(`https ${options.path}: retrying after ${String(error)}`);
    }
  }
}
