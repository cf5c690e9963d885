/**
 * The imperative shell around the pure core: turns frames into commands, puts them
 * in the command log, applies what the log delivers with `reduce`, makes the changes
 * durable and fans the outbound messages out to its own connections. It knows
 * connections only as `Peer`s, not sockets.
 *
 * Log first, then apply: a command that changes state is applied only when the log
 * delivers it, in the log's order, on every node alike. Each turn's commands go to
 * the log as one entry; each delivered batch is committed with the log position it
 * reached (one fsync), and nothing it caused is sent before that commit. Reads
 * (`history`, `show_rooms`, `ping`) are answered from this node's state, after every
 * earlier request of the same connection has been applied.
 */
import { CLOSE_CODES } from "../protocol/closeCodes.js";
import type { Logger } from "pino";
import type { Options } from "../config.js";
import { forEachConn } from "../core/audience.js";
import { isSessionChange, type Change } from "../core/changes.js";
import type { Command, CommandOf, StoredMessage } from "../core/commands.js";
import { expireRecent } from "../core/expiry.js";
import { conversationOf } from "../core/messages.js";
import { currentMessage, userView } from "../core/views.js";
import { coreLimits, type Limits } from "../core/limits.js";
import { directKey, nodeOf, type ChatState, type ConnId, type NodeId, type UserId } from "../core/model.js";
import type { Outbound } from "../core/outbound.js";
import { reduce } from "../core/reduce.js";
import { carryConnections } from "../core/rollback.js";
import { mayWrite } from "../core/writes.js";
import type { CommandLog, EntryDraft, LogEntry } from "../log/commandLog.js";
import { NotAppended } from "../log/commandLog.js";
import { InProcessLog } from "../log/inProcessLog.js";
import { compareEntryIds, formatEntryId, messageIdAt, msOfUuidv7, parseEntryId, timeAt } from "../log/positions.js";
import { errorData, type ErrorCode } from "../protocol/errors.js";
import { isRequestEvent, type RequestEvent } from "../protocol/events.js";
import { isValidRef, readFrame, type FrameLimits } from "../protocol/frame.js";
import type { Validators } from "../protocol/schemas.js";
import type { ErrorPush, Message, Ref } from "../protocol/wire.generated.js";
import { failureReason } from "../store/failureReason.js";
import { uuidv7Floor, type Retention } from "../store/retention.js";
import type { Store } from "../store/store.js";
import { AddressQuotas, drawOf, type Draw } from "./addressQuotas.js";
import { toAction, type Query } from "./handlers.js";
import { Minter, mintMessageId, mintNodeId } from "./identities.js";
import { Allowance, TokenBucket, type RateLimitOptions } from "./rateLimit.js";
import { fitConversations, fitMembers, fitPage, fitPageAfter, fitRecent, fitRooms, withinBudget } from "./replyBudget.js";

/** What the hub needs of a connection. */
export interface Peer {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** Hooks for metrics; every method is optional to implement as a no-op. */
export interface HubObserver {
  /** One per text or binary frame received: its event (or "invalid") and "ok" or the error code. */
  request(event: string, outcome: "ok" | ErrorCode): void;
  /** Frames handed to connections. */
  delivered(count: number): void;
}

/** Hub settings beyond the core's limits, as the server's options name them. */
export type HubLimits = Pick<Options, "accountsPerMinutePerIp" | "roomsPerMinutePerIp" | "bytesPerSecondPerIp" | "maxReplyBytes" | "retainDays" | "retainMessages" | "commitWindowMs">;

/** What a cluster adds: which other nodes are alive, and how long a command may take to reach the log. */
export interface ClusterOptions {
  /** Keeps this node's liveness mark (under its current identity) and tells whether another node's is still there. */
  liveness: { join(node: NodeId): Promise<void>; alive(node: NodeId): Promise<boolean> };
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

/**
 * One request (or a connection's start) on its way through the log; a connection's
 * tickets are answered in order. A read waits in line as a ticket with `run`.
 */
type Ticket = {
  conn: ConnId;
  request?: RequestEvent;
  ref?: Ref;
  done: boolean;
  run?: () => void;
  /**
   * What was minted for it, with the plain tokens its replies hand out: kept here, not in
   * the command, which goes to the log. Only this node renders those replies (they go to
   * its own connections), so nothing else needs them.
   */
  minted?: Minter;
  /** The connections a guest-moving command moved and the account each had, should its commit fail (single server). */
  restore?: Map<ConnId, UserId>;
};

/** This node's commands of one turn: one log entry. */
type Batch = { seq: number; commands: Command[]; tickets: Array<Ticket | undefined>; timer?: NodeJS.Timeout };

/** An outbound message serialised, and this node's peers it goes to. */
type Rendered = { peers: Peer[]; text: string };

/** A serialised message and the peers it goes to, resolved when the command was applied; `cause` when a write caused it. */
type Delivery = { text: string | (() => string); peers: Peer[]; cause?: Ticket };

/** `client` names where the connection comes from (its IP address, an IPv6 /64), for per-address quotas. */
type Connection = { peer: Peer; bucket: TokenBucket; typing: Allowance; client: string; line: Ticket[] };

function envelope(event: string, data: unknown, ref?: Ref): string {
  return JSON.stringify(ref === undefined ? { event, data } : { event, data, ref });
}

/** An error that means "not applied, try again in `retryAfterMs`", as a frame. */
/** Every error frame the hub sends is built here: the error push's data in an envelope echoing the request's ref. */
function errorFrame(error: ErrorPush, ref: Ref | undefined): string {
  return envelope("error", error, ref);
}

function retryLater(code: "rate_limited" | "unavailable", request: string | undefined, message: string, retryAfterMs: number, ref: Ref | undefined): string {
  return errorFrame(errorData(code, request, message, { retry_after_ms: retryAfterMs }), ref);
}

/** The ref and request name of a frame that will not be read further, as far as they are valid. */
function glance(raw: string | Buffer, isBinary: boolean): { ref?: Ref; request?: string } {
  if (isBinary) return {};
  try {
    const parsed = JSON.parse(String(raw)) as { ref?: unknown; event?: unknown } | null;
    const found: { ref?: Ref; request?: string } = {};
    if (isValidRef(parsed?.ref)) found.ref = parsed.ref;
    if (typeof parsed?.event === "string" && isRequestEvent(parsed.event)) found.request = parsed.event;
    return found;
  } catch {
    // Not JSON: there is nothing to echo.
    return {};
  }
}

/** Largest refused frame still parsed for its ref: beyond this, parsing would cost what the refusal saves. */
const GLANCE_BYTES = 4096;

const clientKey = (sender: UserId, clientMsgId: string) => `${sender}\u0000${clientMsgId}`;

const NO_OBSERVER: HubObserver = { request() {}, delivered() {} };

/** Rows one retention pass may delete, so that a first prune of a large file blocks the loop only briefly. */
const PRUNE_BUDGET = 5000;
const PRUNE_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;


/** How soon commands that must reach the log at last (disconnects) are tried again after a failed append. */
const RETRY_APPEND_MS = 1000;

/** Typing notices a connection may send per second, and at once: its own allowance, apart from other requests. */
const TYPING_PER_SECOND = 1;
const TYPING_BURST = 3;

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
  /** Deliveries waiting for the commit of what was applied before them. */
  #outbox: Delivery[] = [];
  #applying = false;
  #uncommitted = false;
  /** When the store last committed, and the timer of the next commit while the window since then is open. */
  #committedAt = Number.NEGATIVE_INFINITY;
  #commitTimer: NodeJS.Timeout | undefined;
  /** Messages with a client id applied and not yet committed, by sender and client id. */
  readonly #sentInBatch = new Map<string, Message>();
  /** Messages added, edited (the message) or deleted (null), applied and not yet committed, by id. */
  readonly #messagesInBatch = new Map<string, StoredMessage | null>();
  /** Local connections the batch being applied ended. */
  readonly #ended = new Set<ConnId>();
  /** The last entry applied, and the last committed. */
  #position: string | undefined;
  #committedPosition: string | undefined;
  /** While an entry is applied: an id above every message applied so far and below every later one. */
  #cursor: string | undefined;
  /** Until a starting cluster node has applied the log's head it serves nothing. */
  #catchingUp: string | undefined;
  /** Why writes are refused (the store could not be written), and when the store is tried again. */
  #readOnly: { reason: string; retryAt: number } | undefined;
  /** Set when the state could not be rebuilt after a failed commit: from then on nothing is applied or sent. */
  #failed = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** A retention pass is under way, a budget at a time. */
  #pruning = false;
  /** Stopped by the server's close: later deliveries are not applied. */
  #stopped = false;
  /** A cluster node on its way out, whose own node_gone is expected. */
  #leaving = false;
  /** A liveness check is under way. */
  #checking = false;
  /** Since when this node's own liveness mark has been kept without a failure. */
  #markedSince: number | undefined;
  /** Nodes this node has declared gone, whose connections the log has not yet ended. */
  readonly #declared = new Set<NodeId>();

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
    if (retainDays > 0 || retainMessages > 0) {
      this.#after(0, () => this.#prune());
      this.#every(PRUNE_INTERVAL_MS, () => this.#prune());
    }
    if (opts.cluster) {
      this.#catchingUp = "catching up with the log";
      const every = opts.cluster.livenessEveryMs;
      this.#every(every, () => void this.#checkLiveness());
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
    void this.#checkLiveness();
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
    return this.#catchingUp ?? this.#log.unavailable ?? (this.#readOnly && `read-only: ${this.#readOnly.reason}`);
  }

  /** Why new connections are refused for now (a cluster node that has not caught up, or cannot reach the log), or undefined. */
  get refusesConnections(): string | undefined {
    return this.#catchingUp ?? this.#log.unavailable;
  }

  /** Registers a new connection from `client` (its address key): it gets a guest account and a welcome once its start is in the log. */
  open(peer: Peer, client = "local"): ConnId {
    const conn = `${this.#node}/${this.#nextConn++}`;
    const now = performance.now();
    const c: Connection = { peer, bucket: new TokenBucket(this.#opts.rate, now), typing: new Allowance(TYPING_PER_SECOND, TYPING_BURST, now), client, line: [] };
    this.#conns.set(conn, c);
    const mint = new Minter();
    this.#submit(c, { type: "connect", conn, ts: "", guest: mint.account() }, { conn, done: false, minted: mint });
    return conn;
  }

  /** Handles one frame from a connection. Every frame gets exactly one reply or error. */
  receive(conn: ConnId, raw: string | Buffer, isBinary: boolean): void {
    const c = this.#conns.get(conn);
    if (!c || this.#failed) return;
    const now = performance.now();
    const admission = c.bucket.take(now);
    if (!admission.ok) return this.#refuse(c, raw, isBinary, admission.retryAfterMs, admission.flooding);
    const wait = this.#quotas.inbound(c.client, raw.length, now);
    if (wait > 0) return this.#refuse(c, raw, isBinary, wait, c.bucket.refused(), "Your address sends more than its share");

    const frame = readFrame(raw, isBinary, this.#opts.validators, this.#opts.limits);
    if (!frame.ok) {
      // Only known event names become metric labels: a client must not be able to mint series.
      const request = frame.error.request;
      this.#observer.request(request !== undefined && isRequestEvent(request) ? request : "invalid", frame.error.code);
      return this.#answer(c, errorFrame(frame.error, frame.ref));
    }
    const { event, data, ref } = frame.request;
    if (event === "typing") {
      // Paid for from an allowance of its own, so that typing never crowds out messages.
      c.bucket.refund(now);
      const wait = c.typing.wait(1, now);
      if (wait > 0) {
        this.#observer.request(event, "rate_limited");
        return this.#answer(c, retryLater("rate_limited", event, `Too many typing notices; retry in ${wait} ms.`, wait, ref));
      }
      c.typing.spend(1, now);
    }
    const mint = new Minter();
    try {
      const action = toAction(event, data, { state: this.#state, conn, openAuth: this.#opts.openAuth, mint, ...(ref === undefined ? {} : { ref }) });
      if (action.type === "history") return this.#read(c, () => this.#history(c.peer, action));
      if (action.type === "conversations") return this.#read(c, () => this.#conversations(c.peer, action));
      if (action.type === "show_rooms" || action.type === "room_members" || action.type === "ping") return this.#read(c, () => this.#answerRead(c, action, event));
      this.#write(c, action, event, now, mint);
    } catch (err) {
      this.#observer.request(event, "internal");
      this.#internalError(c, err, event, ref);
    }
  }

  /** Forgets a connection that closed, for whatever reason; its end goes to the log, however long that takes. */
  close(conn: ConnId): void {
    if (!this.#conns.delete(conn)) return;
    this.#carry({ type: "disconnect", conn, ts: "" });
  }

  /** Appends this turn's commands now (a single server applies them at once), then commits and sends what waits for the commit window. Used at shutdown, before the goodbye. */
  flush(): void {
    this.#appendBatch();
    if (this.#commitTimer !== undefined) this.#commitAndSend();
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

  /** Stops the hub's timers (retention, retrying the store, liveness); the server calls it when it closes. */
  stop(): void {
    // What was applied is committed and answered before the hub goes quiet.
    if (this.#commitTimer !== undefined) this.#commitAndSend();
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const b of this.#inflight.values()) clearTimeout(b.timer);
  }

  /** A request that changes state, after the gates that may refuse it unapplied: the log or the store unavailable, then the address's quotas. */
  #write(c: Connection, cmd: Command, request: RequestEvent, now: number, minted: Minter): void {
    const ref = "ref" in cmd ? cmd.ref : undefined;
    const why = this.#catchingUp ?? this.#log.unavailable ?? (this.#readOnly && mayWrite(this.#state, cmd) ? this.#readOnly.reason : undefined);
    if (why !== undefined) {
      const retryAfterMs = this.#readOnly ? Math.max(0, Math.ceil(this.#readOnly.retryAt - now)) : this.#retryMs;
      const message = `The server cannot store changes right now (${why}); nothing was applied. Retry in ${retryAfterMs} ms.`;
      this.#observer.request(request, "unavailable");
      return this.#answer(c, retryLater("unavailable", request, message, retryAfterMs, ref));
    }
    const quota = this.#quotas.check(c.client, drawOf(this.#state, cmd), now);
    if (!quota.ok) {
      const made = quota.what === "accounts" ? "new accounts" : "new rooms";
      const message = `Too many ${made} from your address; retry in ${quota.retryAfterMs} ms.`;
      this.#observer.request(request, "rate_limited");
      return this.#answer(c, retryLater("rate_limited", request, message, quota.retryAfterMs, ref));
    }
    const ticket: Ticket = { conn: cmd.conn, request, done: false, minted };
    if (ref !== undefined) ticket.ref = ref;
    this.#submit(c, cmd, ticket);
  }

  /** Answers a read now, or after the connection's earlier requests once they are applied. */
  #read(c: Connection, run: () => void): void {
    if (c.line.length === 0) return run();
    c.line.push({ conn: "", done: true, run });
  }

  /** Sends an answer now, or after the answers to the connection's earlier requests, keeping their order. */
  #answer(c: Connection, text: string): void {
    this.#read(c, () => this.#send([c.peer], text));
  }

  #answerRead(c: Connection, cmd: Command, request: RequestEvent): void {
    // Not in the log: the time of the answer.
    cmd.ts = new Date().toISOString();
    const { out } = reduce(this.#state, cmd, this.#limits);
    for (const o of out) this.#enqueue(o, undefined);
    const first = out[0];
    this.#observer.request(request, first?.event === "error" ? first.data.code : "ok");
  }

  #submit(c: Connection, cmd: Command, ticket: Ticket): void {
    c.line.push(ticket);
    this.#batch(cmd, ticket);
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
      ticket.run = () => this.#send([c.peer], text);
      this.#drain(c);
    });
    if (this.#carried.length > 0) this.#after(RETRY_APPEND_MS, () => this.#retryCarried());
  }

  #retryCarried(): void {
    const pending = this.#carried;
    this.#carried = [];
    for (const cmd of pending) this.#carry(cmd);
  }

  /**
   * Applies what the log delivered, then commits it with the position reached and sends
   * what it caused: at once, or, when the store committed less than `commitWindowMs` ago,
   * when that window closes, together with whatever else is applied meanwhile (one fsync
   * for all of it, as PostgreSQL's commit_delay). Nothing waiting is sent before its commit.
   */
  #applyEntries(entries: readonly LogEntry[]): void {
    if (this.#failed || this.#stopped) return;
    this.#applying = true;
    try {
      for (const e of entries) this.#applyEntry(e);
    } finally {
      this.#applying = false;
    }
    // A commit that syncs nothing costs nothing: waiting for company would only add latency.
    const windowMs = this.#opts.store.syncs ? this.#opts.limits.commitWindowMs : 0;
    const wait = this.#committedAt + windowMs - performance.now();
    if (wait <= 0 || !this.#mustCommit()) return this.#commitAndSend();
    this.#commitTimer ??= setTimeout(() => this.#commitAndSend(), wait);
  }

  /** Commits what was applied and sends what waited for it. */
  #commitAndSend(): void {
    clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    this.#commit();
    this.#sendOutbox();
    // After what was sent to them, so that a reply they were owed goes first.
    for (const conn of this.#ended) this.#conns.get(conn)?.peer.close(CLOSE_ENDED, "session ended; reconnect");
    this.#ended.clear();
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
        rendered = out.filter((o) => !(answered && toRequester(o))).map((o) => ({ o, r: this.#render(o, ticket?.minted) }));
      } catch (err) {
        this.#record(changes);
        throw err;
      }
      const lasting = this.#record(changes);
      const cause = lasting && ticket?.request !== undefined ? ticket : undefined;
      // An earlier request of the same connection still unanswered (its fate unknown): what goes to this one waits for it.
      const held: Rendered[] = [];
      const blocked = c !== undefined && c.line[0] !== ticket;
      for (const { o, r } of rendered) {
        if (!r) continue;
        if (blocked && toRequester(o)) held.push(r);
        else this.#send(r.peers, r.text, cause);
      }
      if (held.length > 0 && ticket) ticket.run = () => held.forEach((r) => this.#send(r.peers, r.text, cause));
      const first = out[0];
      if (first?.event === "error" && first.to.kind === "conn" && first.to.conn === cmd.conn) outcome = first.data.code;
    } catch (err) {
      outcome = "internal";
      if (c && ticket?.request) ticket.run = () => this.#send([c.peer], errorFrame(errorData("internal", ticket.request), ticket.ref));
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
    this.#drain(c);
  }

  /**
   * A send with a client id the account used before gets its original message: every node
   * looks in the same place (what it stored, then the batch being applied), so all decide alike.
   */
  #findDuplicate(cmd: CommandOf<"send_message">): void {
    const sender = this.#state.connections.get(cmd.conn)?.userId;
    if (cmd.clientMsgId === undefined || sender === undefined) return;
    const found = this.#sentInBatch.get(clientKey(sender, cmd.clientMsgId)) ?? this.#opts.store.sentBy(sender, cmd.clientMsgId);
    if (found) cmd.duplicateOf = found;
  }

  /** A message as it stands at this point of the log: applied and not yet committed, or else as stored. */
  #findMessage(id: string): StoredMessage | undefined {
    const inBatch = this.#messagesInBatch.get(id);
    if (inBatch !== undefined) return inBatch ?? undefined;
    return this.#opts.store.message(id);
  }

  /** Writes a command's changes; returns whether any of them lasts (a single server keeps no sessions). */
  #record(changes: readonly Change[]): boolean {
    if (changes.length === 0) return false;
    let lasting = false;
    const kept: Change[] = [];
    for (const ch of changes) {
      if (ch.type === "message_added" && ch.message.client_msg_id !== undefined) this.#sentInBatch.set(clientKey(ch.message.from.id, ch.message.client_msg_id), ch.message);
      if (ch.type === "message_added" || ch.type === "message_edited") this.#messagesInBatch.set(ch.message.id, { key: ch.key, message: ch.message });
      if (ch.type === "message_deleted") this.#messagesInBatch.set(ch.id, null);
      if (ch.type === "session_deleted" && this.#conns.has(ch.conn)) this.#ended.add(ch.conn);
      if (!isSessionChange(ch)) lasting = true;
      if (this.#cluster || !isSessionChange(ch)) kept.push(ch);
    }
    if (kept.length > 0) {
      this.#opts.store.write(kept);
      this.#uncommitted = true;
    }
    return lasting;
  }

  /** Runs the reads that waited for the connection's requests now answered. */
  #drain(c: Connection): void {
    const line = c.line;
    while (line.length > 0 && line[0]!.done) {
      const run = line.shift()!.run;
      try {
        run?.();
      } catch (err) {
        this.#opts.logger.error({ err }, "a read failed");
      }
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

  /** Marks this node alive, and declares gone the nodes that hold connections and whose marks expired. */
  async #checkLiveness(): Promise<void> {
    const cluster = this.#opts.cluster;
    if (!cluster || this.#catchingUp) return;
    if (this.#checking) return;
    this.#checking = true;
    try {
      try {
        await cluster.liveness.join(this.#node);
      } catch (err) {
        // Others' marks may expire while Redis is away too: none is judged until ours has been kept a whole TTL again.
        this.#markedSince = undefined;
        throw err;
      }
      const now = performance.now();
      this.#markedSince ??= now;
      if (now - this.#markedSince < cluster.nodeTtlMs || this.#log.unavailable) return;
      const nodes = new Set<NodeId>();
      for (const conn of this.#state.connections.keys()) nodes.add(nodeOf(conn));
      nodes.delete(this.#node);
      for (const node of nodes) {
        if (await cluster.liveness.alive(node)) continue;
        if (this.#declared.has(node)) continue;
        this.#declared.add(node);
        this.#opts.logger.warn({ node }, "a node's liveness mark expired: ending its connections");
        this.#carry({ type: "node_gone", conn: "", node, ts: "" });
      }
      // Declared once; once its connections are gone from the state it is no longer looked at.
      for (const node of this.#declared) if (!nodes.has(node)) this.#declared.delete(node);
    } catch (err) {
      this.#opts.logger.debug({ err }, "liveness check failed");
    } finally {
      this.#checking = false;
    }
  }

  /** A single server needs the position only beside lasting changes (to keep message ids rising); a cluster node always, to resume where it stopped. */
  #mustCommit(): boolean {
    return this.#uncommitted || (this.#cluster && this.#position !== this.#committedPosition);
  }

  /** Commits what was applied since the last commit, with the position it reached. */
  #commit(): void {
    // Committed or dropped, the batch's messages are in the store's hands now.
    this.#sentInBatch.clear();
    this.#messagesInBatch.clear();
    if (!this.#mustCommit()) return;
    this.#uncommitted = false;
    this.#committedPosition = this.#position;
    this.#committedAt = performance.now();
    try {
      this.#opts.store.commit(this.#position === undefined ? undefined : { epoch: this.#log.epoch, entry: this.#position });
    } catch (err) {
      if (this.#cluster) return this.#fatal(err);
      this.#rollBack(err);
    }
  }

  #refuse(c: Connection, raw: string | Buffer, isBinary: boolean, retryAfterMs: number, flooding: boolean, why = "Too many requests"): void {
    // A refused frame is not read; only a small one is parsed, to echo its ref.
    const { ref, request } = raw.length <= GLANCE_BYTES ? glance(raw, isBinary) : {};
    this.#observer.request(request ?? "invalid", "rate_limited");
    if (flooding) return c.peer.close(CLOSE_CODES.policy.code, "flooding");
    this.#answer(c, retryLater("rate_limited", request, `${why}; retry in ${retryAfterMs} ms.`, retryAfterMs, ref));
  }

  /** The requester's direct conversations, newest first, each with its last message as stored (up to what was applied before the request). */
  #conversations(peer: Peer, q: Extract<Query, { type: "conversations" }>): void {
    const me = this.#state.connections.get(q.conn)?.userId;
    // A connection the log has ended while this read waited: it is being closed.
    if (me === undefined) return;
    const bound = this.#cursor ?? this.#boundAfterNow();
    const peers = [...(this.#state.directPeers.get(me) ?? [])].map((id) => userView(this.#state.users.get(id)!));
    const reply = () => {
      const conversations = peers.map((user) => {
        const last = this.#opts.store.page(directKey(me, user.id), 1, bound).messages[0];
        return { user, last_message: last === undefined ? null : currentMessage(this.#state, last) };
      });
      conversations.sort((x, y) => ((y.last_message?.id ?? "") > (x.last_message?.id ?? "") ? 1 : -1));
      return withinBudget((d) => envelope("conversations", d, q.ref), { conversations, has_more: false }, this.#opts.limits.maxReplyBytes, fitConversations);
    };
    this.#send([peer], this.#waiting ? reply : reply());
    this.#observer.request("conversations", "ok");
  }

  #history(peer: Peer, q: Extract<Query, { type: "history" }>): void {
    // A connection the log has ended while this read waited: it is being closed.
    if (!this.#state.connections.has(q.conn)) return;
    const conversation = conversationOf(this.#state, q.conn, q.target);
    if ("error" in conversation) {
      const error = { ...conversation.error, request: "history" };
      this.#send([peer], errorFrame(error, q.ref));
      return this.#observer.request("history", error.code);
    }
    // What was applied so far and no later message: ids follow the log, so a bound on the id is a bound in the log.
    const bound = this.#cursor ?? this.#boundAfterNow();
    const before = q.before === undefined || (bound !== undefined && bound < q.before) ? bound : q.before;
    const fit = q.after === undefined ? fitPage : fitPageAfter;
    const page = () => {
      const read = this.#opts.store.page(conversation.key, q.limit, before, q.after);
      const current = { ...read, messages: read.messages.map((m) => currentMessage(this.#state, m)) };
      return withinBudget((d) => envelope("history", d, q.ref), current, this.#opts.limits.maxReplyBytes, fit);
    };
    // While a batch is being applied the page is read once it is committed, in its place among the replies.
    this.#send([peer], this.#waiting ? page : page());
    this.#observer.request("history", "ok");
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

  #enqueue(o: Outbound, cause: Ticket | undefined): void {
    const rendered = this.#render(o);
    if (rendered) this.#send(rendered.peers, rendered.text, cause);
  }

  /**
   * Resolves an outbound message's audience now (this node's connections) and serialises it once; undefined when it
   * reaches no one here. `minted` holds the plain tokens of the request that caused it, for the replies that hand them out.
   */
  #render(o: Outbound, minted?: Minter): Rendered | undefined {
    const peers: Peer[] = [];
    forEachConn(this.#state, o.to, (conn) => {
      const c = this.#conns.get(conn);
      if (c) peers.push(c.peer);
    });
    if (peers.length === 0) return undefined;
    let text: string;
    if (o.event === "welcome" || o.event === "replace_token") {
      const hash = this.#state.users.get(o.data.user.id)?.tokenHash;
      const token = hash === undefined ? undefined : minted?.tokenOf(hash);
      if (token === undefined) {
        this.#opts.logger.error({ user: o.data.user.id, event: o.event }, "no token was minted here for this reply");
        return undefined;
      }
      text = envelope(o.event, o.event === "welcome" ? { user: o.data.user, token, since: this.#since() } : { user: o.data.user, token }, o.event === "replace_token" ? o.ref : undefined);
    } else if (o.event === "auth") {
      text = envelope(o.event, { ...o.data, since: this.#since() }, o.ref);
    } else if (o.event === "choose_room") {
      text = withinBudget((d) => envelope(o.event, d, o.ref), o.data, this.#opts.limits.maxReplyBytes, fitRecent);
    } else if (o.event === "show_rooms") {
      text = withinBudget((d) => envelope(o.event, d, o.ref), o.data, this.#opts.limits.maxReplyBytes, fitRooms);
    } else if (o.event === "room_members") {
      text = withinBudget((d) => envelope(o.event, d, o.ref), o.data, this.#opts.limits.maxReplyBytes, fitMembers);
    } else {
      text = envelope(o.event, o.data, o.ref);
    }
    return { peers, text };
  }

  /** Something applied waits for its commit: what is sent now must follow it, and reads must see it. */
  get #waiting(): boolean {
    return this.#applying || this.#uncommitted || this.#outbox.length > 0;
  }

  /** Sends at once when nothing waits for a commit; otherwise after it, keeping the order. */
  #send(peers: Peer[], text: string | (() => string), cause?: Ticket): void {
    if (this.#failed) return;
    if (!this.#waiting) {
      const t = typeof text === "string" ? text : text();
      for (const p of peers) p.send(t);
      this.#observer.delivered(peers.length);
      return;
    }
    this.#outbox.push(cause ? { text, peers, cause } : { text, peers });
  }

  #sendOutbox(): void {
    const outbox = this.#outbox;
    this.#outbox = [];
    if (this.#failed) return;
    let count = 0;
    for (const d of outbox) {
      const text = typeof d.text === "string" ? d.text : d.text();
      for (const p of d.peers) p.send(text);
      count += d.peers.length;
    }
    this.#observer.delivered(count);
  }

  /**
   * A commit failed (disk full, I/O error) on a single server, whose log is only in
   * memory: nothing the batch held may be claimed. The state is rebuilt from the store,
   * each request whose changes were lost is answered `unavailable` in place of what it
   * caused, and writes are refused until the store takes one again.
   */
  #rollBack(err: unknown): void {
    const reason = failureReason(err);
    this.#opts.logger.error({ err }, `could not write to the database (${reason}); refusing writes until it can`);
    const restore = new Map<ConnId, UserId>();
    const answered = new Set<Ticket>();
    const kept: Delivery[] = [];
    for (const d of this.#outbox) {
      if (!d.cause) {
        kept.push(d);
        continue;
      }
      if (answered.has(d.cause)) continue;
      answered.add(d.cause);
      for (const [conn, user] of d.cause.restore ?? []) restore.set(conn, user);
      const peer = this.#conns.get(d.cause.conn)?.peer;
      const message = `The server could not store this (${reason}); nothing was applied. Retry in ${this.#retryMs} ms.`;
      if (peer) kept.push({ text: retryLater("unavailable", d.cause.request, message, this.#retryMs, d.cause.ref), peers: [peer] });
    }
    this.#outbox = kept;
    // The position stays where the store has it; the in-process log's ids go on from there.
    this.#position = this.#opts.store.position()?.entry;
    try {
      const fresh = this.#opts.store.load(this.#cluster);
      carryConnections(fresh, this.#state, restore);
      this.#state = fresh;
    } catch (loadErr) {
      return this.#fatal(loadErr);
    }
    this.#enterReadOnly(reason);
  }

  /** Memory is ahead of the disk and cannot be brought back: send nothing more, stop. */
  #fatal(err: unknown): void {
    this.#failed = true;
    this.#outbox = [];
    this.#opts.onFatal(err);
  }

  get #retryMs(): number {
    return this.#opts.retryMs ?? 2000;
  }

  #enterReadOnly(reason: string): void {
    this.#readOnly = { reason, retryAt: performance.now() + this.#retryMs };
    this.#after(this.#retryMs, () => this.#probe());
  }

  /** Tries the store again; writes are accepted once it takes one. */
  #probe(): void {
    try {
      this.#opts.store.probe();
    } catch (err) {
      return this.#enterReadOnly(failureReason(err));
    }
    this.#opts.logger.warn("the database takes writes again; accepting them");
    this.#readOnly = undefined;
  }

  #prune(continuing = false): void {
    if (this.#pruning && !continuing) return;
    this.#pruning = false;
    // The next minute tries again; a pass cut short here must not hold that off.
    if (this.#readOnly) return;
    const { retainDays, retainMessages } = this.#opts.limits;
    const retain: Retention = {};
    if (retainDays > 0) retain.beforeId = uuidv7Floor(Date.now() - retainDays * DAY_MS);
    if (retainMessages > 0) retain.keepPerConversation = retainMessages;
    // Once a pass: the state's recent messages are trimmed at once, the store a budget at a time.
    if (!continuing) expireRecent(this.#state, retain);
    try {
      // A full pass means more is left: go on soon, without holding the loop.
      if (this.#opts.store.prune(retain, PRUNE_BUDGET) >= PRUNE_BUDGET) {
        this.#pruning = true;
        this.#after(10, () => this.#prune(true));
      }
    } catch (err) {
      this.#opts.logger.error({ err }, "could not delete expired messages");
    }
  }

  /** Where a single server's log starts: after the stored position, and after every message id stored before positions were. */
  #firstPosition(stored: string | undefined): string | undefined {
    const last = this.#opts.store.lastMessageId();
    const floor = last === undefined ? undefined : formatEntryId({ ms: msOfUuidv7(last) + 1, seq: 0 });
    return compareEntryIds(stored, floor) >= 0 ? stored : floor;
  }

  #after(ms: number, run: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      run();
    }, ms);
    t.unref();
    this.#timers.add(t);
  }

  #every(ms: number, run: () => void): void {
    const t = setInterval(run, ms);
    t.unref();
    this.#timers.add(t);
  }

  #internalError(c: Connection, err: unknown, request: string, ref: Ref | undefined): void {
    this.#opts.logger.error({ err, request, ref }, "request failed");
    this.#answer(c, errorFrame(errorData("internal", request), ref));
  }
}
