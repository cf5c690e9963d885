/**
 * Cluster liveness: keeps this node's mark in the cluster, and declares gone the nodes
 * that hold connections and whose marks expired, so that the log ends those connections
 * on every node alike.
 */
import type { Logger } from "pino";
import { nodeOf, type ChatState, type NodeId } from "../core/model.js";

/** The cluster's liveness marks: each lasts a TTL unless refreshed. */
export interface Liveness {
  /** Sets or refreshes `node`'s mark. */
  join(node: NodeId): Promise<void>;
  alive(node: NodeId): Promise<boolean>;
}

export interface NodeWatchOptions {
  liveness: Liveness;
  /** How long a liveness mark lasts unless refreshed. */
  nodeTtlMs: number;
  logger: Logger;
  /** This node's identity now (a new one after it was declared gone). */
  node(): NodeId;
  state(): ChatState;
  /** The log cannot be reached for now. */
  logAway(): boolean;
  /** Puts a node's end in the log. */
  declareGone(node: NodeId): void;
}

export class NodeWatch {
  readonly #opts: NodeWatchOptions;
  /** A check is under way. */
  #checking = false;
  /** Since when this node's own mark has been kept without a failure. */
  #markedSince: number | undefined;
  /** Nodes declared gone whose connections the log has not yet ended. */
  readonly #declared = new Set<NodeId>();

  constructor(opts: NodeWatchOptions) {
    this.#opts = opts;
  }

  /** Marks this node alive, and declares gone the nodes that hold connections and whose marks expired. */
  async check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    const { liveness, logger } = this.#opts;
    try {
      try {
        await liveness.join(this.#opts.node());
      } catch (err) {
        // Others' marks may expire while Redis is away too: none is judged until ours has been kept a whole TTL again.
        this.#markedSince = undefined;
        throw err;
      }
      const now = performance.now();
      this.#markedSince ??= now;
      if (now - this.#markedSince < this.#opts.nodeTtlMs || this.#opts.logAway()) return;
      const nodes = new Set<NodeId>();
      for (const conn of this.#opts.state().connections.keys()) nodes.add(nodeOf(conn));
      nodes.delete(this.#opts.node());
      for (const node of nodes) {
        if (await liveness.alive(node)) continue;
        if (this.#declared.has(node)) continue;
        this.#declared.add(node);
        logger.warn({ node }, "a node's liveness mark expired: ending its connections");
        this.#opts.declareGone(node);
      }
      // Declared once; once its connections are gone from the state it is no longer looked at.
      for (const node of this.#declared) if (!nodes.has(node)) this.#declared.delete(node);
    } catch (err) {
      logger.debug({ err }, "liveness check failed");
    } finally {
      this.#checking = false;
    }
  }
}
