/**
 * The transport: one Node http server answering `/healthz` and upgrading `/ws` to
 * WebSocket; each socket becomes a Peer of the hub.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { WebSocket, WebSocketServer } from "ws";
import type { Options } from "../config.js";
import { compileValidators } from "../protocol/schemas.js";
import { SqliteStore } from "../store/sqliteStore.js";
import type { Store } from "../store/store.js";
import { Hub } from "./hub.js";

export interface ChatServer {
  /** `ws://host:port/ws` as bound (the real port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  readonly hub: Hub;
  /** Closes every connection with `code` (1001 by default), then the listener. */
  close(code?: number): Promise<void>;
}

export interface StartOptions {
  options: Readonly<Options>;
  logger: Logger;
  /** Defaults to a SqliteStore on `options.db`. */
  store?: Store;
  /** Called after a failed commit has closed every connection with 1011; the process should exit. */
  onFatal?: (err: unknown) => void;
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(body);
}

export async function startServer({ options, logger, store, onFatal }: StartOptions): Promise<ChatServer> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, clientTracking: true });
  let closing = false;
  const db = store ?? new SqliteStore(options.db);
  const hub = new Hub({
    validators: compileValidators(),
    store: db,
    logger,
    openAuth: options.openAuth,
    onFatal(err) {
      logger.fatal({ err }, "could not write to the database; stopping");
      closing = true;
      for (const ws of wss.clients) ws.close(1011, "server failure");
      onFatal?.(err);
    },
  });

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return answer(res, closing ? 503 : 200, closing ? "shutting down\n" : "ok\n");
    answer(res, 404, "not found\n");
  });

  http.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/ws" || closing) {
      socket.end(`HTTP/1.1 ${closing ? "503 Service Unavailable" : "404 Not Found"}\r\nconnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  wss.on("connection", (ws: WebSocket) => {
    const conn = hub.open({
      send(text) {
        if (ws.readyState === WebSocket.OPEN) ws.send(text);
      },
    });
    ws.on("message", (data, isBinary) => hub.receive(conn, data as Buffer, isBinary));
    ws.on("close", () => hub.close(conn));
    // ws closes the socket itself on protocol errors (1009 for oversized frames); log and move on.
    ws.on("error", (err) => logger.debug({ err, conn }, "socket error"));
  });

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
      const closed = [...wss.clients].map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once("close", () => resolve());
            ws.close(code, "server shutting down");
            // A peer that never answers the close handshake must not hold shutdown up.
            setTimeout(() => ws.terminate(), 2000).unref();
          }),
      );
      await Promise.all(closed);
      await new Promise<void>((resolve) => http.close(() => resolve()));
      hub.flush();
      db.close();
    },
  };
}
