/**
 * Prometheus metrics, on a registry of the server's own (several servers can live
 * in one process, as in tests). Served at GET /metrics on a listener of its own
 * (metricsListener.ts), never on the chat port.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { HubObserver } from "./hubObserver.js";

export interface Metrics extends HubObserver {
  readonly registry: Registry;
  connectionOpened(): void;
  connectionClosed(): void;
  /**
   * A connection refused or closed by policy, by reason: at accept capacity, per_ip; before
   * its first request head headers_timeout; a request or upgrade to another Host host; an
   * upgrade origin, capacity, per_ip; later slow_consumer, heartbeat.
   */
  refused(reason: string): void;
}

/** `queuedBytes` reports, at scrape time, the bytes waiting in every connection's send buffer. */
export function createMetrics(queuedBytes: () => number): Metrics {
  const registry = new Registry();
  // Includes nodejs_eventloop_lag_seconds and its percentiles, heap and CPU.
  collectDefaultMetrics({ register: registry });
  const connections = new Gauge({ name: "chat_connections", help: "Open WebSocket connections.", registers: [registry] });
  const requests = new Counter({
    name: "chat_requests_total",
    help: "Frames received, by event and outcome (ok or the error code).",
    labelNames: ["event", "outcome"] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: "chat_errors_total",
    help: "Error replies sent, by code.",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const delivered = new Counter({ name: "chat_frames_delivered_total", help: "Frames handed to connections (replies and pushes).", registers: [registry] });
  const refusals = new Counter({
    name: "chat_connections_refused_total",
    help: "Connections refused or closed by policy, by reason.",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const commits = new Histogram({
    name: "chat_store_commit_seconds",
    help: "Store commits, by the time each took to become durable (on a file, mostly its fsync).",
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [registry],
  });
  const commitFailures = new Counter({ name: "chat_store_commit_failures_total", help: "Store commits that failed (disk full, I/O error).", registers: [registry] });
  new Gauge({
    name: "chat_send_queue_bytes",
    help: "Bytes queued for sending across all connections.",
    registers: [registry],
    collect() {
      this.set(queuedBytes());
    },
  });
  return {
    registry,
    request(event, outcome) {
      requests.inc({ event, outcome });
      if (outcome !== "ok") errors.inc({ code: outcome });
    },
    delivered(count) {
      if (count > 0) delivered.inc(count);
    },
    committed: (seconds) => commits.observe(seconds),
    commitFailed: () => commitFailures.inc(),
    connectionOpened: () => connections.inc(),
    connectionClosed: () => connections.dec(),
    refused: (reason) => refusals.inc({ reason }),
  };
}
