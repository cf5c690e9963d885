/**
 * The transport: one Node http server answering `/healthz`, `/readyz`, the web
 * page and the protocol's AsyncAPI document (`/asyncapi.json`), and upgrading
 * `/ws` to WebSocket after the admission checks; each socket becomes a Peer of
 * the hub. Every TCP connection is guarded from its accept (counted, and closed
 * unless its first request head arrives in time); heartbeats drop peers that
 * stopped answering. `/metrics` has a listener of its own.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocket, WebSocketServer } from "ws";
import type { Options } from "../config.js";
import { CLOSE_CODES } from "../protocol/closeCodes.js";
import { coreLimits } from "../core/limits.js";
import { readAsyncApiBody } from "../protocol/asyncapiFile.js";
import { compileValidators } from "../protocol/schemas.js";
import { RedisLog } from "../log/redisLog.js";
import { backupPathOf } from "../store/backupPath.js";
import { MemoryStore } from "../store/memoryStore.js";
import { SqliteStore } from "../store/sqliteStore.js";
import type { Store } from "../store/store.js";
import { Admission, MISDIRECTED, acceptLimit, type Refusal } from "./admission.js";
import { ConnectionGuard, refuseSocket } from "./connectionGuard.js";
import { answer, listen, pathOf, serveDocument, urlHost } from "./httpBasics.js";
import { startHeartbeat } from "./heartbeat.js";
import { Hub } from "./hub.js";
import { createMetrics } from "./metrics.js";
import { startMetricsListener, type MetricsListener } from "./metricsListener.js";
import { closeWithin, socketPeer } from "./socketPeer.js";
import { FrameCache } from "./wsFrame.js";
import { createWebAssets } from "./webAssets.js";

export interface ChatServer {
  /** `ws://host:port/ws` as bound (the real port when 0 was asked for). */
  readonly url: string;
  readonly port: number;
  /** `http://host:port/metrics` of the separate metrics listener; undefined when `metricsPort` is off. */
  readonly metricsUrl: string | undefined;
  readonly hub: Hub;
  /** Writes a consistent copy of the database beside it (`<db>.backup`) and returns its path; undefined for `:memory:`. */
  backup(): Promise<string | undefined>;
  /** Resolves once the server serves: at once for a single server; for a cluster node, once it has caught up with the log. */
  readonly ready: Promise<void>;
  /** Stops accepting, sends what was accepted, closes every connection with `code` (1001 by default). */
  close(code?: number): Promise<void>;
}

export interface StartOptions {
  options: Readonly<Options>;
  logger: Logger;
  /** Defaults to a SqliteStore on `options.db`, or a MemoryStore for ":memory:". */
  store?: Store;
  /** Called when the state could not be rebuilt after a failed commit, once every connection is closed with 1011; the process should exit. */
  onFatal?: (err: unknown) => void;
}

/** Fragments one message may arrive in. */
const MAX_FRAGMENTS = 64;

/** The cluster's log in Redis, checked against the node's database; a refusal closes the database and is thrown as StoreError. */
async function openClusterLog(options: Readonly<Options>, url: string, db: Store, logger: Logger): Promise<RedisLog> {
  try {
    const { redisPrefix: prefix, redisMaxlen: maxlen, redisTimeoutMs: timeoutMs, nodeTtlMs } = options;
    const rules = JSON.stringify(coreLimits(options));
    return await RedisLog.open({ url, prefix, maxlen, timeoutMs, nodeTtlMs, logger }, { position: db.position(), empty: db.isEmpty(), rules });
  } catch (err) {
    db.close();
    throw err;
  }
}

export async function startServer({ options, logger, store, onFatal }: StartOptions): Promise<ChatServer> {
  // First, so that a bad trusted-proxy entry stops the start before anything is opened.
  const admission = new Admission(options);
  const web = await createWebAssets();
  const asyncApi = await readAsyncApiBody();
  // Browsers send a message in one frame: an unfinished message of thousands of tiny fragments only costs memory (1008).
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, maxFragments: MAX_FRAGMENTS, clientTracking: true });
  const metrics = createMetrics(() => {
    let bytes = 0;
    for (const ws of wss.clients) bytes += ws.bufferedAmount;
    return bytes;
  });
  let closing = false;
  const db: Store = store ?? (options.db === ":memory:" ? new MemoryStore() : new SqliteStore(options.db, { loopSyncMs: options.loopSyncMs }));
  const log = options.redisUrl === null ? undefined : await openClusterLog(options, options.redisUrl, db, logger);
  const hub = new Hub({
    validators: compileValidators(),
    store: db,
    logger,
    openAuth: options.openAuth,
    limits: options,
    rate: { perSecond: options.ratePerSecond, burst: options.rateBurst, closeAfter: options.floodCloseAfter },
    observer: metrics,
    ...(log && { cluster: { log, liveness: log, appendTimeoutMs: options.redisTimeoutMs, livenessEveryMs: Math.floor(options.nodeTtlMs / 3), nodeTtlMs: options.nodeTtlMs } }),
    onFatal(err) {
      logger.fatal({ err }, "could not rebuild the state from the database; stopping");
      closing = true;
      for (const ws of wss.clients) closeWithin(ws, CLOSE_CODES.serverFailure.code, "server failure");
      onFatal?.(err);
    },
  });

  const guard = new ConnectionGuard(admission, {
    headersTimeoutMs: options.headersTimeoutMs,
    onRefused(reason, socket) {
      metrics.refused(reason);
      logger.debug({ reason, ip: socket.remoteAddress }, "connection refused");
    },
  });

  const http = createServer(
    {
      // Node refuses a headers timeout longer than the request timeout.
      headersTimeout: Math.min(options.headersTimeoutMs, options.requestTimeoutMs),
      requestTimeout: options.requestTimeoutMs,
      // Node checks both timeouts only this often; its default (30 s) would let them run late.
      connectionsCheckingInterval: Math.min(1000, Math.ceil(options.headersTimeoutMs / 2)),
      keepAliveTimeout: 5000,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      if (!guard.started(req.socket)) return;
      const path = pathOf(req);
      // Load balancers probe by IP address, so health answers whatever the Host.
      if (path === "/healthz") return answer(res, 200, "ok\n");
      if (path === "/readyz") {
        const why = closing ? "shutting down" : hub.unavailable;
        // A cluster node says how far it has applied the log, so that one lagging behind can be seen.
        const ready = log ? `ready; applied the log up to ${hub.position ?? "its start"}` : "ready";
        return answer(res, why === undefined ? 200 : 503, `${why ?? ready}\n`);
      }
      if (!admission.hostAllowed(req)) {
        metrics.refused(MISDIRECTED.reason);
        return answer(res, MISDIRECTED.status, "misdirected request\n");
      }
      if (path === "/asyncapi.json") return serveDocument(req, res, asyncApi, "application/json");
      if (web(req, res)) return;
      return answer(res, 404, "not found\n");
    },
  );
  // Past this Node closes new sockets unanswered: room for the refusals that linger up to a second.
  http.maxConnections = 2 * acceptLimit(options.maxConnections);
  http.on("drop", () => metrics.refused("capacity"));
  http.on("connection", (socket: Socket) => guard.accepted(socket));

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removes its own listener before 'upgrade': without one, a peer that resets
    // the connection while we answer it would crash the process.
    socket.on("error", () => socket.destroy());
    if (!guard.started(req.socket)) return;
    const refuse = (refusal: Refusal) => {
      logger.debug({ reason: refusal.reason, ip: req.socket.remoteAddress, origin: req.headers.origin, host: req.headers.host }, "upgrade refused");
      refuseSocket(socket, refusal, Math.min(1000, options.headersTimeoutMs));
    };
    // The Host goes first: a name that is not ours learns nothing else about this server.
    if (!admission.hostAllowed(req)) {
      metrics.refused(MISDIRECTED.reason);
      return refuse(MISDIRECTED);
    }
    if (pathOf(req) !== "/ws") return refuse({ status: 404, text: "Not Found", reason: "path" });
    if (closing) return refuse({ status: 503, text: "Service Unavailable", reason: "closing" });
    // A cluster node that has not caught up with the log, or cannot reach it, would serve a stale or frozen replica.
    if (hub.refusesConnections !== undefined) {
      metrics.refused("unavailable");
      return refuse({ status: 503, text: "Service Unavailable", reason: "unavailable" });
    }
    const verdict = admission.upgrade(req);
    if (!verdict.ok) {
      metrics.refused(verdict.reason);
      return refuse(verdict);
    }
    wss.handleUpgrade(req, socket, head, (ws) => connected(ws, socket, verdict.clientKey));
  });

  const frames = new FrameCache();
  const onSlow = () => metrics.refused("slow_consumer");
  const heartbeat = startHeartbeat(options.heartbeatMs, () => metrics.refused("heartbeat"));
  function connected(ws: WebSocket, socket: Duplex, clientKey: string): void {
    metrics.connectionOpened();
    heartbeat.watch(ws);
    const conn = hub.open(socketPeer(ws, socket, { maxBufferedBytes: options.maxBufferedBytes, frames, onSlow }), clientKey);
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

  const ready = hub.catchUp();
  const port = await listen(http, options.port, options.host);
  let metricsListener: MetricsListener | undefined;
  if (options.metricsPort !== null) {
    try {
      metricsListener = await startMetricsListener(metrics.registry, options.metricsPort, options.metricsHost);
    } catch (err) {
      heartbeat.stop();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await hub.stop();
      await log?.close();
      db.close();
      throw err;
    }
  }
  const url = `ws://${urlHost(options.host, { v4: "localhost", v6: "localhost" })}:${port}/ws`;

  return {
    url,
    port,
    metricsUrl: metricsListener?.url,
    hub,
    ready,
    async backup() {
      if (!db.backup) return undefined;
      const path = backupPathOf(options.db);
      await db.backup(path);
      logger.info({ path, position: hub.position }, "backup written");
      return path;
    },
    async close(code = 1001) {
      closing = true;
      heartbeat.stop();
      const listenerClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      // Whatever was accepted is committed and sent before the goodbye.
      await hub.flush();
      const closed = [...wss.clients].map((ws) => {
        const done = new Promise<void>((resolve) => ws.once("close", () => resolve()));
        closeWithin(ws, code, "server shutting down");
        return done;
      });
      await Promise.all(closed);
      // Sockets still short of a request head would otherwise hold the listener open until their timer.
      http.closeAllConnections();
      await Promise.all([listenerClosed, metricsListener?.close()]);
      // A cluster node says it is gone, so that the others need not wait for its liveness mark to expire.
      await hub.leave(options.redisTimeoutMs);
      await hub.stop();
      if (log) {
        await log.forget(hub.node);
        await log.close();
      }
      db.close();
    },
  };
}
