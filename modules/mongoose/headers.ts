// SPDX-License-Identifier: MIT
// Header objects to wire text, refusing what would split or smuggle a header.

/** Header names and values to send: `{ "Content-Type": "text/plain" }`. */
export type Headers = Record<string, string | number>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNSAFE = /[\r\n\0]/;

/** Whether the headers announce a chunked body: reply() must not set Content-Length then. */
export function chunked(headers: Headers | undefined): boolean {
  if (!headers) return false;
  return Object.entries(headers).some(([name, value]) =>
    name.toLowerCase() === "transfer-encoding" && /\bchunked\b/i.test(String(value)));
}

/** "Name: value\r\n" lines; throws a TypeError naming the bad header before anything is sent. */
export function headerLines(headers: Headers | undefined, skip?: string): string {
  let text = "";
  if (!headers) return text;
  for (const [name, raw] of Object.entries(headers)) {
    const value = String(raw);
    if (!TOKEN.test(name)) throw new TypeError(`invalid HTTP header name ${JSON.stringify(name)}`);
    if (UNSAFE.test(value)) throw new TypeError(`invalid value for HTTP header "${name}": CR, LF and NUL are not allowed`);
    if (skip !== undefined && name.toLowerCase() === skip) continue;
    text += `${name}: ${value}\r\n`;
  }
  return text;
}
