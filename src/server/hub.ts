/**
 * The imperative shell around the pure core: puts the commands its request pipeline
 * makes in the command log, applies what the log delivers with `reduce`, records the
 * changes for the store and fans the outbound messages out to its own connections
 * through the outbox. It knows connections only as `Peer`s, not sockets.
 *
 * Log first, then apply: a command that changes state is applied only when the log
 * delivers it, in the log's order, on every node alike. Each turn's commands go to
 * the log as one entry; each delivered batch is committed with the log position it
 * reached (one fsync), and nothing it caused is sent before that commit (outbox.ts).
 * Reads (`history`, `show_rooms`, `ping`) are answered from this node's state, after
 * every earlier request of the same connection has been applied (requestPipeline.ts,
 * reads.ts).
 */
import { CLOSE_CODES } from "../protocol/closeCodes.js";
import type { Logger } from "pino";
import type { Options } from "../config.js";
import { isSessionChange, type Change } from "../core/changes.js";
import type { Command, CommandOf, StoredMessage } from "../core/commands.js";
import { coreLimits, type Limits } from "../core/limits.js";
import type { ChatState, ConnId, NodeId, UserId } from "../core/model.js";
import type { Outbound } from "../core/outbound.js";
import { reduce } from "../core/reduce.js";
import { carryConnections } from "../core/rollback.js";
import { mayWrite } from "../core/writes.js";
import type { CommandLog, EntryDraft, LogEntry } from "../log/commandLog.js";
import { NotAppended } from "../log/commandLog.js";
import { InProcessLog } from "../log/inProcessLog.js";
import { compareEntryIds, formatEntryId, messageIdAt, msOfUuidv7, parseEntryId, timeAt } from "../log/positions.js";
import { errorData, type ErrorCode } from "../protocol/errors.js";
import type { FrameLimits } from "../protocol/frame.js";
import type { Validators } from "../protocol/schemas.js";
import { failureReason } from "../store/failureReason.js";
import { PendingMessages } from "../store/pendingMessages.js";
import type { Store } from "../store/store.js";
import { AddressQuotas, drawOf, type Draw } from "./addressQuotas.js";
import { Connection, type Peer, type Ticket } from "./connection.js";
import { errorFrame, retryLater } from "./envelope.js";
import { FanOut, type Rendered } from "./fanOut.js";
import { NO_OBSERVER, type HubObserver } from "./hubObserver.js";
import { Minter, mintMessageId, mintNodeId } from "./identities.js";
import { NodeWatch, type Liveness } from "./nodeWatch.js";
import { Outbox, type Cause } from "./outbox.js";
import { startPruning } from "./pruning.js";
import type { RateLimitOptions } from "./rateLimit.js";
import { Reads } from "./reads.js";
import { ReadOnlyMode } from "./readOnlyMode.js";
import { RequestPipeline, type Refusal } from "./requestPipeline.js";
import { Timers } from "./timers.js";

export type { Peer } from "./connection.js";

/** Hub settings beyond the core's limits, as the server's options name them. */
export type HubLimits = Pick<Options, "accountsPerMinutePerIp" | "roomsPerMinutePerIp" | "bytesPerSecondPerIp" | "maxReplyBytes" | "retainDays" | "retainMessages" | "commitWindowMs">;

/** What a cluster adds: which other nodes are alive, and how long a command may take to reach the log. */
export interface ClusterOptions {
  /** Keeps this node's liveness mark (under its current identity) and tells whether another node's is still there. */
  liveness: Liveness;
  /** Milliseconds a command has to reach the log; past it, it is answered `unavailable` and void if it arrives later. */
  appendTimeoutMs: number;
  /** How often liveness is refreshed and checked. */
  livenessEveryMs: number;
  /** How long a liveness mark lasts unless refreshed. */
  nodeTtlMs: number;
}

export interface HubOptions {
  validators: Validators;
  store: Store;
  logger: Logger;
  openAuth: boolean;
  limits: Limits & FrameLimits & HubLimits;
  rate: RateLimitOptions;
  observer?: HubObserver;
  /** How long writes stay refused after the store failed, before it is tried again. @default 2000 */
  retryMs?: number;
  /** Called when the state could not be rebuilt after a failed commit: the process must stop. */
  onFatal(err: unknown): void;
  /** The shared log and its liveness marks; a single server uses an in-process log. */
  cluster?: ClusterOptions & { log: CommandLog };
}

/** This node's commands of one turn: one log entry. */
type Batch = { seq: number; commands: Command[]; tickets: Array<Ticket | undefined>; timer?: NodeJS.Timeout };


/** How soon commands that must reach the log at last (disconnects) are tried again after a failed append. */
const RETRY_APPEND_MS = 1000;

/** Close code for connections the cluster ended: their node was declared gone, or their account was deleted or its token replaced on another node. */
export const CLOSE_ENDED = CLOSE_CODES.sessionEnded.code;
/** Close code for a connection whose start could not reach the log. */
const CLOSE_TRY_AGAIN = CLOSE_CODES.tryAgainLater.code;

export class Hub {
  #state: ChatState;
  /** The rules `reduce` applies: the core's part of the options. */
  readonly #limits: Limits;
  readonly #conns = new Map<ConnId, Connection>();
  readonly #opts: HubOptions;
  readonly #observer: HubObserver;
  readonly #quotas: AddressQuotas;
  readonly #log: CommandLog;
  readonly #cluster: boolean;
  readonly #timers = new Timers();
  readonly #pipeline: RequestPipeline;
  readonly #reads: Reads;
  readonly #fanOut: FanOut;
  /** A cluster node's watch over the others' liveness. */
  readonly #watch: NodeWatch | undefined;
  /** Deliveries waiting for the commit of what was applied before them. */
  readonly #outbox: Outbox<Cause & Pick<Ticket, "restore">>;
  /** Writes refused after the store failed, until it takes one again. */
  readonly #readOnly: ReadOnlyMode;
  #node: NodeId = mintNodeId();
  #nextConn = 1;
  /** This turn's commands, appended together once the turn ends. */
  #building: Batch | undefined;
  #nextBatch = 1;
  /** An append of this node is on its way to the log. */
  #appending = false;
  /** Batches appended and not yet applied or given up. */
  readonly #inflight = new Map<number, Batch>();
  /** Commands that must reach the log however long it takes (disconnects, node_gone), from batches given up, waiting to be tried again. */
  #carried: Command[] = [];
  /** Changes were written to the store since its last commit. */
  #uncommitted = false;
  /**
   * Messages applied and not yet committed, and those of the commit under way: edits, deletes
   * and client ids must be judged as the store will judge them once it has them.
   */
  #pending = new PendingMessages();
  #committing = new PendingMessages();
  /** Local connections the batches applied since the last commit ended, and those the commit under way ended. */
  readonly #ended = new Set<ConnId>();
  readonly #endedCommitting = new Set<ConnId>();
  /** The last entry applied, and the last committed. */
  #position: string | undefined;
  #committedPosition: string | undefined;
  /** While an entry is applied: an id above every message applied so far and below every later one. */
  #cursor: string | undefined;
  /** Until a starting cluster node has applied the log's head it serves nothing. */
  #catchingUp: string | undefined;
  /** Set when the state could not be rebuilt after a failed commit: from then on nothing is applied or sent. */
  #failed = false;
  /** Stopped by the server's close: later deliveries are not applied. */
  #stopped = false;
  /** A cluster node on its way out, whose own node_gone is expected. */
  #leaving = false;

  constructor(opts: HubOptions) {
    this.#opts = opts;
    this.#observer = opts.observer ?? NO_OBSERVER;
    this.#cluster = opts.cluster !== undefined;
    this.#limits = coreLimits(opts.limits);
    this.#state = opts.store.load(this.#cluster);
    const at = opts.store.position();
    // A position in another log (a single server's database starting a cluster) says nothing about this one.
    const stored = opts.cluster && at?.epoch !== opts.cluster.log.epoch ? undefined : at?.entry;
    this.#position = stored;
    this.#log = opts.cluster?.log ?? new InProcessLog(this.#firstPosition(stored));
    const { accountsPerMinutePerIp, roomsPerMinutePerIp, bytesPerSecondPerIp, retainDays, retainMessages } = opts.limits;
    this.#quotas = new AddressQuotas({ accountsPerMinute: accountsPerMinutePerIp, roomsPerMinute: roomsPerMinutePerIp, bytesPerSecond: bytesPerSecondPerIp });
    this.#readOnly = new ReadOnlyMode(opts.store, this.#retryMs, this.#timers, opts.logger);
    this.#outbox = new Outbox({
      committer: { written: () => this.#uncommitted, pending: () => this.#mustCommit(), commit: () => this.#commit() },
      // A commit that syncs nothing costs nothing: waiting for company would only add latency.
      windowMs: opts.store.syncs ? opts.limits.commitWindowMs : 0,
      peerOf: (conn) => this.#conns.get(conn)?.peer,
      delivered: (count) => this.#observer.delivered(count),
      afterCommit: (everything) => this.#closeEnded(everything),
    });
    this.#fanOut = new FanOut({ conns: this.#conns, maxReplyBytes: opts.limits.maxReplyBytes, logger: opts.logger, state: () => this.#state, since: () => this.#since() });
    const send = (peers: Peer[], text: string | (() => string), cause?: Cause) => this.#outbox.send(peers, text, cause);
    this.#reads = new Reads({
      store: opts.store,
      limits: this.#limits,
      maxReplyBytes: opts.limits.maxReplyBytes,
      observer: this.#observer,
      state: () => this.#state,
      bound: () => this.#cursor ?? this.#boundAfterNow(),
      send,
      enqueue: (o, cause) => this.#enqueue(o, cause),
    });
    this.#pipeline = new RequestPipeline({
      validators: opts.validators,
      limits: opts.limits,
      openAuth: opts.openAuth,
      quotas: this.#quotas,
      observer: this.#observer,
      logger: opts.logger,
      state: () => this.#state,
      refusal: (cmd, now) => this.#refusal(cmd, now),
      read: (c, read) => this.#reads.answer(c.peer, read),
      submit: (cmd, ticket) => this.#batch(cmd, ticket),
      send,
    });
    startPruning({ store: opts.store, retainDays, retainMessages, timers: this.#timers, logger: opts.logger, state: () => this.#state, refused: () => this.#readOnly.reason !== undefined });
    if (opts.cluster) {
      this.#catchingUp = "catching up with the log";
      this.#watch = new NodeWatch({
        liveness: opts.cluster.liveness,
        nodeTtlMs: opts.cluster.nodeTtlMs,
        logger: opts.logger,
        node: () => this.#node,
        state: () => this.#state,
        logAway: () => Boolean(this.#log.unavailable),
        declareGone: (node) => this.#carry({ type: "node_gone", conn: "", node, ts: "" }),
      });
      const every = opts.cluster.livenessEveryMs;
      this.#timers.every(every, () => this.#checkLiveness());
    }
    this.#log.follow(stored, (entries) => this.#applyEntries(entries));
  }

  /** A cluster node: resolves once it has joined (its liveness mark is set) and applied the log as far as it went when asked. */
  async catchUp(): Promise<void> {
    if (!this.#opts.cluster) return;
    let head: string | undefined;
    for (;;) {
      try {
        await this.#opts.cluster.liveness.join(this.#node);
        head = await this.#log.head();
        break;
      } catch (err) {
        if (this.#stopped) return;
        this.#opts.logger.warn({ err }, "cannot reach the log to catch up; trying again");
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    if (compareEntryIds(this.#position, head) >= 0) {
      this.#catchingUp = undefined;
      return;
    }
    while (compareEntryIds(this.#position, head) < 0) {
      if (this.#stopped) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.#opts.logger.info({ position: this.#position, node: this.#node }, "caught up with the log");
    this.#catchingUp = undefined;
    this.#checkLiveness();
  }

  /** Read-only view for diagnostics and tests. */
  get state(): Readonly<ChatState> {
    return this.#state;
  }

  get connectionCount(): number {
    return this.#conns.size;
  }

  /** This process's identity in the cluster (a new one after it was declared gone). */
  get node(): NodeId {
    return this.#node;
  }

  /** The last log entry applied. */
  get position(): string | undefined {
    return this.#position;
  }

  /** Why writes are refused for now (the database could not be written, the log cannot be reached), or undefined while they are not. */
  get unavailable(): string | undefined {
    const readOnly = this.#readOnly.reason;
    return this.#catchingUp ?? this.#log.unavailable ?? (readOnly === undefined ? undefined : `read-only: ${readOnly}`);
  }

  /** Why new connections are refused for now (a cluster node that has not caught up, or cannot reach the log), or undefined. */
  get refusesConnections(): string | undefined {
    return this.#catchingUp ?? this.#log.unavailable;
  }

  /** Registers a new connection from `client` (its address key): it gets a guest account and a welcome once its start is in the log. */
  open(peer: Peer, client = "local"): ConnId {
    const conn = `${this.#node}/${this.#nextConn++}`;
    const c = new Connection(conn, peer, client, this.#opts.rate, performance.now());
    this.#conns.set(conn, c);
    const mint = new Minter();
    const start: Command = { type: "connect", conn, ts: "", guest: mint.account() };
    const ticket: Ticket = { conn, done: false, minted: mint };
    c.join(ticket);
    this.#batch(start, ticket);
    return conn;
  }

  /** Handles one frame from a connection. Every frame gets exactly one reply or error. */
  receive(conn: ConnId, raw: string | Buffer, isBinary: boolean): void {
    const c = this.#conns.get(conn);
    if (!c || this.#failed) return;
    this.#pipeline.receive(c, raw, isBinary);
  }

  /** Forgets a connection that closed, for whatever reason; its end goes to the log, however long that takes. */
  close(conn: ConnId): void {
    if (!this.#conns.delete(conn)) return;
    this.#carry({ type: "disconnect", conn, ts: "" });
  }

  /** Appends this turn's commands now (a single server applies them at once), then commits and sends what waits for the commit window. Used at shutdown, before the goodbye. */
  async flush(): Promise<void> {
    this.#appendBatch();
    await this.#outbox.flush();
  }

  /** A cluster node leaving on purpose: its connections' end goes to the log. Resolves when placed, or after `withinMs`. */
  async leave(withinMs: number): Promise<void> {
    if (!this.#opts.cluster) return this.flush();
    this.#leaving = true;
    this.#carry({ type: "node_gone", conn: "", node: this.#node, ts: "" });
    const deadline = Date.now() + withinMs;
    this.#appendBatch();
    while ((this.#inflight.size > 0 || this.#carried.length > 0 || this.#building) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Stops the hub's timers (retention, retrying the store, liveness); the server calls it when it closes, and closes the store once it resolves. */
  async stop(): Promise<void> {
    this.#stopped = true;
    // What was applied is committed and answered before the hub goes quiet.
    await this.#outbox.flush();
    this.#timers.clear();
    for (const b of this.#inflight.values()) clearTimeout(b.timer);
  }

  /** Why a write is refused unapplied for now: the node catching up, the log away, or the store read-only for what it would write. */
  #refusal(cmd: Command, now: number): Refusal | undefined {
    const readOnly = this.#readOnly.reason;
    const why = this.#catchingUp ?? this.#log.unavailable ?? (readOnly !== undefined && mayWrite(this.#state, cmd) ? readOnly : undefined);
    if (why === undefined) return undefined;
    return { why, retryAfterMs: this.#readOnly.retryAfterMs(now) ?? this.#retryMs };
  }

  /** Adds a command to this turn's batch, appended once the turn ends. */
  #batch(cmd: Command, ticket: Ticket | undefined): void {
    let b = this.#building;
    if (!b) {
      b = this.#building = { seq: this.#nextBatch++, commands: [], tickets: [] };
      setImmediate(() => this.#appendBatch());
    }
    b.commands.push(cmd);
    b.tickets.push(ticket);
  }

  /** A command that must reach the log eventually, whatever happens to the batch it first goes in (see #giveUp). */
  #carry(cmd: Command): void {
    this.#batch(cmd, undefined);
  }

  /**
   * Appends this turn's batch, unless an append of this node is still on its way: then what
   * gathers meanwhile goes as one entry once it returns (group commit, as for the store), so
   * that under load a node makes fewer, fuller entries, and every node reads fewer.
   */
  #appendBatch(): void {
    const b = this.#building;
    if (!b || this.#failed || this.#appending) return;
    this.#building = undefined;
    const timeoutMs = this.#opts.cluster?.appendTimeoutMs;
    const deadline = timeoutMs === undefined ? Number.MAX_SAFE_INTEGER : this.#log.now() + timeoutMs;
    this.#inflight.set(b.seq, b);
    if (timeoutMs !== undefined) {
      // Past its deadline the entry is void, but it may have been placed before it with the answer lost on the
      // way (Redis stalled or killed just then): waiting as long again lets a Redis that comes back say so.
      b.timer = setTimeout(() => this.#giveUp(b, "the log did not answer in time"), 2 * timeoutMs);
      b.timer.unref();
    }
    const draft: EntryDraft = { node: this.#node, batch: b.seq, deadline, commands: b.commands };
    this.#appending = true;
    this.#log
      .append(draft)
      .then(
        // Placed: it will be applied, however long reading it takes, so it is not given up.
        () => clearTimeout(b.timer),
        (err: unknown) => {
          // Not surely unplaced: the deadline decides, as it does for every node.
          if (err instanceof NotAppended) this.#giveUp(b, err.message);
        },
      )
      .finally(() => {
        this.#appending = false;
        const next = this.#building;
        // What waited for this append was never sent: while the log is known to be away it is answered at once.
        const away = next && this.#log.unavailable;
        if (next && away) {
          this.#building = undefined;
          this.#inflight.set(next.seq, next);
          this.#giveUp(next, away);
        } else this.#appendBatch();
      });
  }

  /**
   * A batch that did not reach the log in time: its requests are answered `unavailable`
   * (every node ignores the entry should it arrive late), connections it would have
   * started are closed, and what must reach the log at last goes in a later batch.
   */
  #giveUp(b: Batch, reason: string): void {
    if (!this.#inflight.delete(b.seq)) return;
    clearTimeout(b.timer);
    // Requests answered unavailable are worth a line; a disconnect tried again while the log is away is not.
    const log = b.tickets.some((t) => t?.request !== undefined) ? this.#opts.logger.warn : this.#opts.logger.debug;
    log.call(this.#opts.logger, { batch: b.seq, commands: b.commands.length, reason }, "commands could not be put in the log; answering unavailable");
    b.commands.forEach((cmd, i) => {
      const ticket = b.tickets[i];
      // Never applied here now (should its entry arrive, its replies are not sent): its tokens are of no more use.
      if (ticket) delete ticket.minted;
      if (cmd.type === "disconnect" || cmd.type === "node_gone") return this.#carried.push(cmd);
      if (cmd.type === "connect") {
        const c = this.#conns.get(cmd.conn);
        if (c) c.peer.close(CLOSE_TRY_AGAIN, "the server cannot reach its log; try again later");
        // It may yet arrive before its deadline: its end must follow it.
        return this.#carried.push({ type: "disconnect", conn: cmd.conn, ts: "" });
      }
      if (!ticket) return;
      const c = this.#conns.get(ticket.conn);
      this.#observer.request(ticket.request ?? "invalid", "unavailable");
      const message = `The server could not reach its log (${reason}); nothing was applied. Retry in ${this.#retryMs} ms.`;
      const text = retryLater("unavailable", ticket.request, message, this.#retryMs, ticket.ref);
      ticket.done = true;
      if (!c) return;
      ticket.run = () => this.#outbox.send([c.peer], text);
      c.drain(this.#opts.logger);
    });
    if (this.#carried.length > 0) this.#timers.after(RETRY_APPEND_MS, () => this.#retryCarried());
  }

  #retryCarried(): void {
    const pending = this.#carried;
    this.#carried = [];
    for (const cmd of pending) this.#carry(cmd);
  }

  /** Applies what the log delivered; the outbox commits it, with the position reached, before it sends what it caused. */
  #applyEntries(entries: readonly LogEntry[]): void {
    if (this.#failed || this.#stopped) return;
    this.#outbox.apply(() => {
      for (const e of entries) this.#applyEntry(e);
    });
  }

  /**
   * Closes the connections the batches just committed ended (with `everything`, also those
   * applied since): after what was sent to them, so that a reply they were owed goes first.
   */
  #closeEnded(everything: boolean): void {
    const ended = everything ? [...this.#endedCommitting, ...this.#ended] : this.#endedCommitting;
    for (const conn of ended) this.#conns.get(conn)?.peer.close(CLOSE_ENDED, "session ended; reconnect");
    this.#endedCommitting.clear();
    if (everything) this.#ended.clear();
  }

  #applyEntry(e: LogEntry): void {
    const mine = e.node === this.#node;
    const batch = mine ? this.#inflight.get(e.batch) : undefined;
    if (batch) {
      this.#inflight.delete(e.batch);
      clearTimeout(batch.timer);
    }
    const at = parseEntryId(e.id);
    if (at.ms > e.deadline) {
      // Placed after its deadline: its requests were (or are now) answered unavailable, on every node alike.
      if (batch) {
        this.#inflight.set(e.batch, batch);
        this.#giveUp(batch, "it reached the log after its deadline");
      }
      this.#position = e.id;
      return;
    }
    const ts = timeAt(at);
    for (let i = 0; i < e.commands.length; i++) {
      const cmd = e.commands[i]!;
      cmd.ts = ts;
      if (cmd.type === "send_message") {
        cmd.messageId = mintMessageId(at, i);
        this.#findDuplicate(cmd);
      }
      if (cmd.type === "edit_message" || cmd.type === "delete_message") {
        const found = this.#findMessage(cmd.message_id);
        if (found) cmd.found = found;
      }
      this.#cursor = messageIdAt(at, i + 1);
      // An entry of ours whose batch was given up: its requester was answered unavailable already.
      this.#applyOne(cmd, batch?.tickets[i], mine && !batch);
      if (cmd.type === "node_gone" && cmd.node === this.#node && !this.#leaving) this.#rejoin();
    }
    this.#position = e.id;
    this.#cursor = undefined;
  }

  /** Applies one command. A throw here is a bug in the core: the requester gets `internal`. */
  #applyOne(cmd: Command, ticket: Ticket | undefined, answered: boolean): void {
    const c = ticket && this.#conns.get(ticket.conn);
    // Commands that move connections to fresh guests (all from the requester's account) say where they were, should their commit fail.
    const owner = ticket && "guests" in cmd ? this.#state.connections.get(cmd.conn)?.userId : undefined;
    if (ticket && owner !== undefined && "guests" in cmd) ticket.restore = new Map(cmd.guests.map((g) => [g.conn, owner]));
    const draw: Draw | undefined = c ? drawOf(this.#state, cmd) : undefined;
    let outcome: "ok" | ErrorCode = "ok";
    try {
      const { out, changes } = reduce(this.#state, cmd, this.#limits);
      const toRequester = (o: Outbound) => o.to.kind === "conn" && o.to.conn === cmd.conn;
      // All of it is serialised before any is sent: should that fail, none goes out and the requester hears only
      // `internal`. Its changes stand, as on every replica that applied the command.
      let rendered: Array<{ o: Outbound; r: Rendered | undefined }>;
      try {
        rendered = out.filter((o) => !(answered && toRequester(o))).map((o) => ({ o, r: this.#fanOut.render(o, ticket?.minted) }));
      } catch (err) {
        this.#record(changes);
        throw err;
      }
      this.#record(changes);
      // Every request, writing or not (a repeated send, a refusal): its answer was judged on state a failed commit may take back.
      const cause = ticket?.request !== undefined ? ticket : undefined;
      // An earlier request of the same connection still unanswered (its fate unknown): what goes to this one waits for it.
      const held: Rendered[] = [];
      const blocked = c !== undefined && ticket !== undefined && !c.isNext(ticket);
      for (const { o, r } of rendered) {
        if (!r) continue;
        if (blocked && toRequester(o)) held.push(r);
        else this.#outbox.send(r.peers, r.text, cause);
      }
      if (held.length > 0 && ticket) ticket.run = () => held.forEach((r) => this.#outbox.send(r.peers, r.text, cause));
      const first = out[0];
      if (first?.event === "error" && first.to.kind === "conn" && first.to.conn === cmd.conn) outcome = first.data.code;
    } catch (err) {
      outcome = "internal";
      if (c && ticket?.request) ticket.run = () => this.#outbox.send([c.peer], errorFrame(errorData("internal", ticket.request), ticket.ref));
      if (c && ticket?.request) this.#opts.logger.error({ err, request: ticket.request }, "request failed");
      else this.#opts.logger.error({ err, command: cmd.type }, "a command from the log failed");
    }
    if (!ticket) return;
    ticket.done = true;
    // Its replies are rendered (tokens and all): the plain tokens need not wait for its turn in the line.
    delete ticket.minted;
    if (!c) return;
    if (ticket.request) this.#observer.request(ticket.request, outcome);
    if (draw) this.#quotas.charge(c.client, draw, this.#state, outcome === "ok", performance.now());
    c.drain(this.#opts.logger);
  }

  /**
   * A send with a client id the account used before gets its original message: every node
   * looks in the same place (what it stored, then the batch being applied), so all decide alike.
   */
  #findDuplicate(cmd: CommandOf<"send_message">): void {
    const sender = this.#state.connections.get(cmd.conn)?.userId;
    if (cmd.clientMsgId === undefined || sender === undefined) return;
    const stored = () => this.#opts.store.sentBy(sender, cmd.clientMsgId!);
    const found = this.#pending.sentBy(sender, cmd.clientMsgId, () => this.#committing.sentBy(sender, cmd.clientMsgId!, stored));
    if (found) cmd.duplicateOf = found;
  }

  /** A message as it stands at this point of the log: applied and not yet committed, or else as stored. */
  #findMessage(id: string): StoredMessage | undefined {
    return this.#pending.message(id, (key) => this.#committing.message(key, (k) => this.#opts.store.message(k)));
  }

  /** Writes a command's changes to the store (a single server keeps no sessions there). */
  #record(changes: readonly Change[]): void {
    if (changes.length === 0) return;
    this.#pending.add(changes);
    const kept: Change[] = [];
    for (const ch of changes) {
      if (ch.type === "session_deleted" && this.#conns.has(ch.conn)) this.#ended.add(ch.conn);
      if (this.#cluster || !isSessionChange(ch)) kept.push(ch);
    }
    if (kept.length > 0) {
      this.#opts.store.write(kept);
      this.#uncommitted = true;
    }
  }

  /** This node was declared gone (it stalled past its liveness): its connections have ended; it goes on as a new node. */
  #rejoin(): void {
    const old = this.#node;
    this.#node = mintNodeId();
    // Entries of the old identity still on their way are the cluster's to apply, as any node's; their requesters are told unavailable.
    for (const b of [...this.#inflight.values()]) this.#giveUp(b, "this node was declared gone");
    for (const conn of this.#conns.keys()) this.#ended.add(conn);
    this.#opts.logger.warn({ old, node: this.#node }, "this node was declared gone by the cluster; its connections were closed, and it rejoins as a new node");
    void this.#opts.cluster?.liveness.join(this.#node).catch((err: unknown) => this.#opts.logger.warn({ err }, "could not mark this node alive"));
  }

  /** Marks this node alive, and declares gone the nodes whose marks expired; not before it has caught up. */
  #checkLiveness(): void {
    if (this.#catchingUp) return;
    void this.#watch?.check();
  }

  /** A single server needs the position only beside lasting changes (to keep message ids rising); a cluster node always, to resume where it stopped. */
  #mustCommit(): boolean {
    return this.#uncommitted || (this.#cluster && this.#position !== this.#committedPosition);
  }

  /**
   * Commits what was applied since the last commit, with the position it reached; the outbox
   * calls it while `#mustCommit`, and not again before a commit under way is done.
   */
  #commit(): void | Promise<void> {
    [this.#committing, this.#pending] = [this.#pending, this.#committing];
    this.#pending.clear();
    for (const conn of this.#ended) this.#endedCommitting.add(conn);
    this.#ended.clear();
    this.#uncommitted = false;
    this.#committedPosition = this.#position;
    const store = this.#opts.store;
    const at = this.#position === undefined ? undefined : { epoch: this.#log.epoch, entry: this.#position };
    const started = performance.now();
    const committed = () => {
      this.#committing.clear();
      this.#observer.committed((performance.now() - started) / 1000);
    };
    let done: Promise<void> | undefined;
    try {
      if (store.commitAsync) done = store.commitAsync(at);
      else store.commit(at);
    } catch (err) {
      return this.#failedCommit(err);
    }
    // Committed (or dropped), the batch's messages are in the store's hands.
    if (!done) return committed();
    return done.then(committed, (err: unknown) => this.#failedCommit(err));
  }

  #failedCommit(err: unknown): void {
    this.#observer.commitFailed();
    this.#committing.clear();
    if (this.#cluster) return this.#fatal(err);
    this.#rollBack(err);
  }

  /** Where the pushes of a connection welcomed or signed in by the command being applied begin. */
  #since(): string {
    const since = this.#cursor ?? this.#boundAfterNow();
    if (since === undefined) throw new Error("a welcome or auth reply outside of the log");
    return since;
  }

  /** Between entries: an id above every message applied so far and below every later one. */
  #boundAfterNow(): string | undefined {
    if (this.#position === undefined) return undefined;
    const at = parseEntryId(this.#position);
    return messageIdAt({ ms: at.ms, seq: at.seq + 1 }, 0);
  }

  /** Sends one of `reduce`'s answers to a read, to whom it names. */
  #enqueue(o: Outbound, cause?: Cause): void {
    const rendered = this.#fanOut.render(o);
    if (rendered) this.#outbox.send(rendered.peers, rendered.text, cause);
  }

  /**
   * A commit failed (disk full, I/O error) on a single server, whose log is only in
   * memory: nothing the batch held may be claimed. The state is rebuilt from the store,
   * each request answered meanwhile (whose changes were lost, or whose answer was judged on
   * them) is answered `unavailable` in place of what it caused (the outbox), and writes are
   * refused until the store takes one again.
   */
  #rollBack(err: unknown): void {
    const reason = failureReason(err);
    this.#opts.logger.error({ err }, `could not write to the database (${reason}); refusing writes until it can`);
    const restore = new Map<ConnId, UserId>();
    for (const lost of this.#outbox.rollBack(reason, this.#retryMs)) for (const [conn, user] of lost.restore ?? []) restore.set(conn, user);
    // What was applied after the failed commit went with it (the store dropped it too).
    this.#pending.clear();
    this.#uncommitted = false;
    try {
      // The position stays where the store has it; the in-process log's ids go on from there.
      this.#position = this.#opts.store.position()?.entry;
      this.#committedPosition = this.#position;
      const fresh = this.#opts.store.load(this.#cluster);
      carryConnections(fresh, this.#state, restore);
      this.#state = fresh;
    } catch (loadErr) {
      return this.#fatal(loadErr);
    }
    this.#readOnly.enter(reason);
  }

  /** Memory is ahead of the disk and cannot be brought back: send nothing more, stop. */
  #fatal(err: unknown): void {
    this.#failed = true;
    this.#outbox.stop();
    this.#opts.onFatal(err);
  }

  get #retryMs(): number {
    return this.#opts.retryMs ?? 2000;
  }

  /** Where a single server's log starts: after the stored position, and after every message id stored before positions were. */
  #firstPosition(stored: string | undefined): string | undefined {
    const last = this.#opts.store.lastMessageId();
    const floor = last === undefined ? undefined : formatEntryId({ ms: msOfUuidv7(last) + 1, seq: 0 });
    return compareEntryIds(stored, floor) >= 0 ? stored : floor;
  }
}
