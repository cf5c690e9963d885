/**
 * The transport: one Node http server answering `/healthz`, `/readyz` and
 * `/metrics`, and upgrading `/ws` to WebSocket after the admission checks; each
 * socket becomes a Peer of the hub. Heartbeats drop peers that stopped answering.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocket, WebSocketServer } from "ws";
import type { Options } from "../config.js";
import { compileValidators } from "../protocol/schemas.js";
import { MemoryStore } from "../store/memoryStore.js";
import { SqliteStore } from "../store/sqliteStore.js";
import type { Store } from "../store/store.js";
import { Admission } from "./admission.js";
import { Hub } from "./hub.js";
import { createMetrics } from "./metrics.js";
import { closeWithin, socketPeer } from "./socketPeer.js";
import { FrameCache } from "./wsFrame.js";
import { createWebAssets } from "./webAssets.js";

export interface ChatServer {
  /** `ws://host:port/ws` as bound (the real port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  readonly hub: Hub;
  /** Stops accepting, sends what was accepted, closes every connection with `code` (1001 by default). */
  close(code?: number): Promise<void>;
}

export interface StartOptions {
  options: Readonly<Options>;
  logger: Logger;
  /** Defaults to a SqliteStore on `options.db`, or a MemoryStore for ":memory:". */
  store?: Store;
  /** Called after a failed commit has closed every connection with 1011; the process should exit. */
  onFatal?: (err: unknown) => void;
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? "/").split("?")[0]!;
}

function answer(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

export async function startServer({ options, logger, store, onFatal }: StartOptions): Promise<ChatServer> {
  const web = await createWebAssets();
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, clientTracking: true });
  const metrics = createMetrics(() => {
    let bytes = 0;
    for (const ws of wss.clients) bytes += ws.bufferedAmount;
    return bytes;
  });
  const admission = new Admission(options);
  let closing = false;
  const db = store ?? (options.db === ":memory:" ? new MemoryStore() : new SqliteStore(options.db));
  const hub = new Hub({
    validators: compileValidators(),
    store: db,
    logger,
    openAuth: options.openAuth,
    limits: options,
    rate: { perSecond: options.ratePerSecond, burst: options.rateBurst, closeAfter: options.floodCloseAfter },
    observer: metrics,
    onFatal(err) {
      logger.fatal({ err }, "could not write to the database; stopping");
      closing = true;
      for (const ws of wss.clients) closeWithin(ws, 1011, "server failure");
      onFatal?.(err);
    },
  });

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    switch (pathOf(req)) {
      case "/healthz":
        return answer(res, 200, "ok\n");
      case "/readyz": {
        const why = closing ? "shutting down" : hub.unavailable;
        return answer(res, why === undefined ? 200 : 503, `${why ?? "ready"}\n`);
      }
      case "/metrics":
        void metrics.registry.metrics().then((text) => answer(res, 200, text, metrics.registry.contentType));
        return;
      default:
        if (web(req, res)) return;
        return answer(res, 404, "not found\n");
    }
  });

  http.on("upgrade", (req, socket, head) => {
    // Node removes its own listener before 'upgrade': without one, a peer that resets
    // the connection while we answer it would crash the process.
    socket.on("error", () => socket.destroy());
    const refuse = (status: number, text: string) => socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    if (pathOf(req) !== "/ws") return refuse(404, "Not Found");
    if (closing) return refuse(503, "Service Unavailable");
    const verdict = admission.check(req);
    if (!verdict.ok) {
      metrics.refused(verdict.reason);
      logger.debug({ reason: verdict.reason, ip: req.socket.remoteAddress, origin: req.headers.origin }, "upgrade refused");
      return refuse(verdict.status, verdict.text);
    }
    admission.opened(verdict.ip);
    socket.once("close", () => admission.closed(verdict.ip));
    wss.handleUpgrade(req, socket, head, (ws) => connected(ws, socket));
  });

  const alive = new WeakSet<WebSocket>();
  const frames = new FrameCache();
  const onSlow = () => metrics.refused("slow_consumer");
  function connected(ws: WebSocket, socket: Duplex): void {
    metrics.connectionOpened();
    alive.add(ws);
    ws.on("pong", () => alive.add(ws));
    const conn = hub.open(socketPeer(ws, socket, { maxBufferedBytes: options.maxBufferedBytes, frames, onSlow }));
    // Once a close has begun its replies could not be sent, so its requests are not applied either.
    ws.on("message", (data, isBinary) => {
      if (ws.readyState === WebSocket.OPEN) hub.receive(conn, data as Buffer, isBinary);
    });
    ws.on("close", () => {
      metrics.connectionClosed();
      hub.close(conn);
    });
    // ws closes the socket itself on protocol errors (1009 for oversized frames); log and move on.
    ws.on("error", (err) => logger.debug({ err, conn }, "socket error"));
  }

  const heartbeat =
    options.heartbeatMs > 0
      ? setInterval(() => {
          for (const ws of wss.clients) {
            if (!alive.has(ws)) {
              metrics.refused("heartbeat");
              ws.terminate();
              continue;
            }
            alive.delete(ws);
            ws.ping();
          }
        }, options.heartbeatMs)
      : undefined;
  heartbeat?.unref();

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;
  const url = `ws://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}/ws`;

  return {
    url,
    port,
    hub,
    async close(code = 1001) {
      closing = true;
      clearInterval(heartbeat);
      const listenerClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      // Whatever was accepted is committed and sent before the goodbye.
      hub.flush();
      const closed = [...wss.clients].map((ws) => {
        const done = new Promise<void>((resolve) => ws.once("close", () => resolve()));
        closeWithin(ws, code, "server shutting down");
        return done;
      });
      await Promise.all(closed);
      await listenerClosed;
      hub.flush();
      db.close();
    },
  };
}
