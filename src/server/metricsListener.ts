/**
 * The /metrics listener, apart from the chat port: what it shows (connection counts,
 * refusals, heap) helps an attacker and is the operator's, so it binds its own
 * address (loopback by default) and serves nothing else.
 */
import { createServer } from "node:http";
import type { Registry } from "prom-client";
import { answer, listen, pathOf, urlHost } from "./httpBasics.js";

export interface MetricsListener {
  /** `http://host:port/metrics` as bound. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsListener(registry: Registry, port: number, host: string): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    if (pathOf(req) !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) return answer(res, 404, "not found\n");
    registry.metrics().then(
      (text) => answer(res, 200, text, registry.contentType),
      () => answer(res, 500, ""),
    );
  });
  const bound = await listen(server, port, host);
  return {
    url: `http://${urlHost(host, { v4: "127.0.0.1", v6: "::1" })}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
