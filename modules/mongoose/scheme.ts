// SPDX-License-Identifier: MIT
// What a URL's scheme says to both managers' listen and connect.

const HTTP_SCHEMES = /^(https?|wss?):\/\//i;

/** Whether to parse HTTP: as asked, else by the scheme (http, https, ws, wss). */
export function parsesHttp(url: string, http: boolean | undefined): boolean {
  return http ?? HTTP_SCHEMES.test(url);
}
