/** The HTTP basics of the chat listener and the metrics listener: paths, plain answers, fixed documents, listening, shown addresses. */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export function pathOf(req: IncomingMessage): string {
  return (req.url ?? "/").split("?")[0]!;
}

export function answer(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

/** The page's security headers, with a policy that lets a document load nothing at all (it has no scripts or styles). */
const DOCUMENT_HEADERS = {
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};

/** Serves a fixed document to GET and HEAD (405 otherwise); revalidated, since it changes with each release. */
export function serveDocument(req: IncomingMessage, res: ServerResponse, body: Buffer, type: string): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { ...DOCUMENT_HEADERS, allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
    res.end("method not allowed\n");
    return;
  }
  res.writeHead(200, { ...DOCUMENT_HEADERS, "content-type": type, "content-length": String(body.length), "cache-control": "no-cache" });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Listens on `port` (0: a free one) at `host`; resolves with the port bound, rejects on EADDRINUSE and the like. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** `host` as it goes in a URL (IPv6 in brackets), a wildcard address shown as `wildcard`. */
export function urlHost(host: string, wildcard: { v4: string; v6: string }): string {
  const shown = host === "0.0.0.0" ? wildcard.v4 : host === "::" ? wildcard.v6 : host;
  return shown.includes(":") ? `[${shown}]` : shown;
}
