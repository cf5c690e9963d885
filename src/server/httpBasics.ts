/** What the chat listener and the metrics listener share: paths, plain answers, listening, shown addresses. */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export function pathOf(req: IncomingMessage): string {
  return (req.url ?? "/").split("?")[0]!;
}

export function answer(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
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
