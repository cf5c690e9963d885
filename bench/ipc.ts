/** Messages between the orchestrator (run.ts) and each load generator process (loadgen.ts). */
import type { ServerKind } from "./config.js";
import type { HistogramData } from "./stats.js";

export type LoadMode = "rooms" | "lobby" | "idle";

export interface SetupRequest {
  type: "setup";
  kind: ServerKind;
  /** The server's URL; for a cluster, one per node: connection i goes to urls[i % urls.length]. */
  urls: string[];
  mode: LoadMode;
  /** Connections this process opens. */
  clients: number;
  /** Rooms mode: names of the rooms this process's clients fill, `roomSize` each, in order. */
  rooms: string[];
  roomSize: number;
  /** Lobby mode: whether this process hosts the one sender (its first connection). */
  lobbySender: boolean;
  /** Lobby mode: connections across all processes, the sender included. */
  lobbyAudience: number;
  msgBytes: number;
  /** Connections opened at once; more overflows the listen backlog. */
  concurrency: number;
}

/** Starts a new window: messages sent from now on carry `tag`; `rate` is this process's total msgs/s. */
export interface WindowRequest {
  type: "window";
  tag: number;
  rate: number;
}

export interface QueryRequest {
  type: "query";
  tags: number[];
}

export interface CloseRequest {
  type: "close";
}

export type ToLoadgen = SetupRequest | WindowRequest | QueryRequest | CloseRequest;

export interface ReadyReply {
  type: "ready";
  connected: number;
  failed: number;
  connectSeconds: number;
  errors: string[];
}

/** What happened during the window that just closed, measured by the load generator's clock. */
export interface WindowStats {
  tag: number;
  seconds: number;
  sent: number;
  /** Deliveries the messages sent in this window should cause. */
  expected: number;
  /** Deliveries (of any tag) that arrived during the window: the throughput. */
  arrived: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface WindowReply {
  type: "window";
  closed: WindowStats | null;
}

/** Everything known so far about the messages sent under one tag, late arrivals included. */
export interface TagStats {
  tag: number;
  sent: number;
  expected: number;
  received: number;
  latencyUs: HistogramData;
  maxUs: number;
}

export interface QueryReply {
  type: "query";
  tags: TagStats[];
  /** Error frames and unexpected closes since setup. */
  errors: Record<string, number>;
}

export interface ClosedReply {
  type: "closed";
}

export interface FailedReply {
  type: "failed";
  error: string;
}

export type FromLoadgen = ReadyReply | WindowReply | QueryReply | ClosedReply | FailedReply;
