/**
 * The cluster's command log: one Redis Stream. Each node appends a turn's commands
 * as one entry, stamped with the log's epoch and never creating the stream
 * (NOMKSTREAM), so that nothing is appended to a Redis that came back empty and no
 * node applies an entry of another log; it follows the stream with blocking reads
 * in batches, and after any trouble checks that the last entry it read is still
 * there before reading on. Keys, under the prefix: `log` (the stream, which begins
 * with an empty entry), `epoch` (the log's identity), `seeded` (set when the log
 * began from a non-empty database), `rules` (the limits every node must share),
 * `node:<id>` (liveness marks with a TTL).
 */
import { randomUUID } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import type { NodeId } from "../core/model.js";
import { StoreError } from "../store/migrations.js";
import type { LogPosition } from "../store/store.js";
import { NotAppended, type CommandLog, type EntryDraft, type LogEntry } from "./commandLog.js";
import { compareEntryIds } from "./positions.js";

export interface RedisLogOptions {
  url: string;
  /** Names the keys, so that several clusters can share one Redis. */
  prefix: string;
  /** Entries kept (approximately); 0 keeps all. */
  maxlen: number;
  /** How long one Redis command may take before it counts as failed. */
  timeoutMs: number;
  /** How long a node's liveness mark lasts unless refreshed. */
  nodeTtlMs: number;
  logger: Logger;
}

/** What the log must know of the replica that will follow it, to refuse one it cannot continue. */
export interface Replica {
  position: LogPosition | undefined;
  /** No account, room or message: it can replay the log from its start. */
  empty: boolean;
  /** The rules `reduce` applies that come from this node's configuration (limits), as JSON: every node must have the same. */
  rules: string;
}

/** Entries read per blocking read. */
const READ_COUNT = 1000;
/** How long a blocking read waits for new entries before it asks again (and so notices a stalled Redis). */
const BLOCK_MS = 1000;

/** Creates the epoch and the stream's first, empty entry together: 1; 0 when another node created them first; -1 for a stream without an epoch. */
const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], '*', 'e', ARGV[2])
return 1
`;

type Appender = Redis & { chatCreate(epochKey: string, stream: string, epoch: string, genesis: string): Promise<number> };

/** The one-line reason for a refusal to start, with what the operator can do. */
function refuse(why: string): never {
  throw new StoreError(`${why}; seed this node's database from a backup of a running node (npm run backup), or see README "Cluster"`);
}

function field(info: unknown[], name: string): unknown {
  const i = info.indexOf(name);
  return i < 0 ? undefined : info[i + 1];
}

export class RedisLog implements CommandLog {
  readonly epoch: string;
  readonly #opts: RedisLogOptions;
  readonly #writer: Appender;
  readonly #reader: Redis;
  readonly #keys: { stream: string; epoch: string; seeded: string };
  /** Redis's clock minus ours, in ms. */
  #offset = 0;
  /** The last failure of a command, until one succeeds. */
  #trouble: string | undefined;
  /** Set for good once the log's epoch is seen gone or changed, or the log is seen to have gone back. */
  #epochLost: string | undefined;
  #closed = false;

  private constructor(opts: RedisLogOptions, writer: Appender, reader: Redis, epoch: string) {
    this.#opts = opts;
    this.#writer = writer;
    this.#reader = reader;
    this.epoch = epoch;
    this.#keys = keysOf(opts.prefix);
  }

  /** Connects, and checks that `replica` can follow this log (creating the log if there is none). Throws StoreError with a one-line reason. */
  static async open(opts: RedisLogOptions, replica: Replica): Promise<RedisLog> {
    const common: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: opts.timeoutMs,
      retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
    };
    const writer = new Redis(opts.url, { ...common, commandTimeout: opts.timeoutMs, connectionName: "chat-writer" }) as Appender;
    const reader = new Redis(opts.url, { ...common, commandTimeout: BLOCK_MS + opts.timeoutMs, connectionName: "chat-reader" });
    for (const r of [writer, reader]) r.on("error", (err: Error) => opts.logger.debug({ err }, "redis connection error"));
    // Back: the next append or read says whether it works; the trouble before the reconnect no longer counts.
    reader.on("ready", () => log?.clearTrouble());
    writer.on("ready", () => log?.clearTrouble());
    let log: RedisLog | undefined;
    writer.defineCommand("chatCreate", { numberOfKeys: 2, lua: CREATE_SCRIPT });
    try {
      await Promise.all([writer.connect(), reader.connect()]);
    } catch (err) {
      writer.disconnect();
      reader.disconnect();
      throw new StoreError(`cannot reach Redis at ${redactedUrl(opts.url)}: ${(err as Error).message}`);
    }
    try {
      const epoch = await settleEpoch(writer, keysOf(opts.prefix), replica);
      log = new RedisLog(opts, writer, reader, epoch);
      await log.#measureClock();
      return log;
    } catch (err) {
      writer.disconnect();
      reader.disconnect();
      throw err;
    }
  }

  clearTrouble(): void {
    this.#trouble = undefined;
  }

  get unavailable(): string | undefined {
    if (this.#epochLost) return this.#epochLost;
    if (this.#writer.status !== "ready") return "the log (Redis) cannot be reached";
    return this.#trouble;
  }

  now(): number {
    return Date.now() + this.#offset;
  }

  async append(entry: EntryDraft): Promise<void> {
    if (this.#epochLost) throw new NotAppended(this.#epochLost);
    const payload = encodeEntry(this.epoch, entry);
    const trim = this.#opts.maxlen > 0 ? ["MAXLEN", "~", String(this.#opts.maxlen)] : [];
    let id: unknown;
    try {
      id = await this.#writer.call("XADD", this.#keys.stream, "NOMKSTREAM", ...trim, "*", "e", payload);
      this.#trouble = undefined;
    } catch (err) {
      const message = (err as Error).message;
      this.#trouble = `the log (Redis) failed: ${message}`;
      // Refused before anything was sent (no connection): surely not in the log.
      if (message.includes("enableOfflineQueue")) throw new NotAppended(this.#trouble);
      throw err;
    }
    if (id === null) {
      this.#loseEpoch("the log's stream is gone from Redis (was Redis flushed or replaced?): refusing writes rather than start a second history");
      throw new NotAppended(this.#epochLost!);
    }
  }

  follow(after: string | undefined, deliver: (entries: readonly LogEntry[]) => void): void {
    void this.#readLoop(after ?? "0-0", deliver);
  }

  async #readLoop(after: string, deliver: (entries: readonly LogEntry[]) => void): Promise<void> {
    let last = after;
    // After trouble (Redis restarted, say), the last entry read must still be there: else entries were lost or trimmed away.
    let verify = true;
    while (!this.#closed && !this.#epochLost) {
      try {
        if (verify) {
          if ((await this.#reader.get(this.#keys.epoch)) !== this.epoch) return this.#loseEpoch();
          const lost = await positionProblem(this.#reader, this.#keys.stream, last === "0-0" ? undefined : last);
          if (lost) return this.#loseEpoch(`${lost}: refusing writes rather than start a second history (see README "Cluster")`);
          verify = false;
        }
        const res = (await this.#reader.xread("COUNT", READ_COUNT, "BLOCK", BLOCK_MS, "STREAMS", this.#keys.stream, last)) as
          | Array<[string, Array<[string, string[]]>]>
          | null;
        this.#trouble = undefined;
        const rows = res?.[0]?.[1] ?? [];
        if (rows.length === 0) continue;
        const entries: LogEntry[] = [];
        for (const [id, fields] of rows) {
          const entry = decodeEntry(id, fields);
          if ((entry.format ?? LOG_FORMAT) > LOG_FORMAT) {
            if (entries.length > 0) deliver(entries);
            return this.#loseEpoch(`entry ${id} was written by a newer chat-server (log format ${entry.format}; this one reads ${LOG_FORMAT}): upgrade this node`);
          }
          if (entry.epoch !== undefined && entry.epoch !== this.epoch) {
            if (entries.length > 0) deliver(entries);
            return this.#loseEpoch(`the stream holds an entry of another log (${id}): was Redis replaced? refusing writes rather than mix two histories`);
          }
          last = id;
          if (entry.epoch === undefined) this.#opts.logger.error({ id }, "an entry of the log could not be read; applying it as empty");
          entries.push(entry);
        }
        if (entries.length > 0) deliver(entries);
      } catch (err) {
        if (this.#closed) return;
        this.#trouble = `reading the log (Redis) failed: ${(err as Error).message}`;
        this.#opts.logger.debug({ err }, "reading the log failed; trying again");
        verify = true;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async head(): Promise<string | undefined> {
    const [last] = (await this.#writer.xrevrange(this.#keys.stream, "+", "-", "COUNT", 1)) as Array<[string, string[]]>;
    return last?.[0];
  }

  /** Liveness: sets this node's mark (and checks the epoch and the clock while at it). */
  async join(node: NodeId): Promise<void> {
    await this.#writer.set(this.#nodeKey(node), "1", "PX", this.#opts.nodeTtlMs);
    const epoch = await this.#writer.get(this.#keys.epoch);
    if (epoch !== this.epoch) this.#loseEpoch();
    await this.#measureClock();
    this.#trouble = undefined;
  }

  async alive(node: NodeId): Promise<boolean> {
    return (await this.#writer.exists(this.#nodeKey(node))) === 1;
  }

  /** Removes this node's mark, on a graceful stop. */
  async forget(node: NodeId): Promise<void> {
    await this.#writer.del(this.#nodeKey(node)).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#reader.disconnect();
    await this.#writer.quit().catch(() => this.#writer.disconnect());
  }

  #nodeKey(node: NodeId): string {
    return `${this.#opts.prefix}node:${node}`;
  }

  #loseEpoch(why = "the log's epoch in Redis is gone or changed (was Redis flushed or replaced?): refusing writes rather than start a second history"): void {
    if (this.#epochLost) return;
    this.#epochLost = why;
    this.#opts.logger.error(this.#epochLost);
  }

  async #measureClock(): Promise<void> {
    const before = Date.now();
    const [sec, usec] = await this.#writer.time();
    const after = Date.now();
    this.#offset = Number(sec) * 1000 + Math.floor(Number(usec) / 1000) - (before + after) / 2;
  }
}

function keysOf(prefix: string) {
  return { stream: `${prefix}log`, epoch: `${prefix}epoch`, seeded: `${prefix}seeded`, rules: `${prefix}rules` };
}

/**
 * The entries' format: a node meeting a newer one stops writing rather than apply commands it may not know.
 * 2: the commands of issue 12 (typing, edits, deletes, ...) and account names unique under nameKey.
 */
export const LOG_FORMAT = 2;

function encodeEntry(epoch: string, entry: EntryDraft): string {
  return JSON.stringify({ v: LOG_FORMAT, x: epoch, n: entry.node, b: entry.batch, d: entry.deadline, c: entry.commands });
}

/** An entry as appended; one that cannot be read (written by hand, say) reads as empty, of no known log, on every node alike. */
function decodeEntry(id: string, fields: string[]): LogEntry & { epoch?: string; format?: number } {
  try {
    const e = JSON.parse(fields[fields.indexOf("e") + 1] ?? "null") as { v: number; x: string; n: string; b: number; d: number; c: LogEntry["commands"] };
    if (typeof e.x === "string" && typeof e.n === "string" && Number.isFinite(e.d) && Array.isArray(e.c)) {
      return { id, format: e.v, epoch: e.x, node: e.n, batch: e.b, deadline: e.d, commands: e.c };
    }
  } catch {
    // Below.
  }
  return { id, node: "?", batch: 0, deadline: Number.MAX_SAFE_INTEGER, commands: [] };
}

/** A URL without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/** The log's epoch, created if this is the first node; refuses a replica that cannot follow the log as it is. */
async function settleEpoch(redis: Redis, keys: ReturnType<typeof keysOf>, replica: Replica): Promise<string> {
  await redis.set(keys.rules, replica.rules, "NX");
  const rules = await redis.get(keys.rules);
  if (rules !== replica.rules) {
    throw new StoreError(`this node's limits differ from the cluster's (${replica.rules} here, ${rules} in Redis): every node must have the same CHAT_MAX_ROOMS_PER_ACCOUNT, CHAT_MAX_ROOM_MEMBERS, CHAT_MAX_ROOMS_JOINED and CHAT_MAX_SESSIONS_PER_ACCOUNT (see README "Cluster" to change them)`);
  }
  const stored = replica.position;
  const followed = stored && stored.epoch !== "local" ? stored : undefined;
  let epoch = await redis.get(keys.epoch);
  if (epoch === null) {
    if (followed) refuse(`Redis holds no log for this database (it followed log ${followed.epoch}; was Redis flushed or replaced?): restore Redis from its append-only file`);
    const created = randomUUID();
    const genesis = encodeEntry(created, { node: "", batch: 0, deadline: Number.MAX_SAFE_INTEGER, commands: [] });
    // Only one node creates it; the others read the winner's.
    const outcome = await (redis as Appender).chatCreate(keys.epoch, keys.stream, created, genesis);
    if (outcome === -1) refuse("Redis holds log entries but no epoch; refusing to guess whose they are");
    if (outcome === 1) {
      if (!replica.empty) await redis.set(keys.seeded, "1");
      return created;
    }
    epoch = (await redis.get(keys.epoch))!;
  }
  if (followed && followed.epoch !== epoch) refuse(`this database followed another log (${followed.epoch}, Redis has ${epoch})`);
  if (!followed && !replica.empty) refuse("this database has data but never followed this cluster's log");
  if (!followed && (await redis.get(keys.seeded)) !== null) refuse("this cluster's log began from an existing database, which an empty one cannot replay");
  const problem = await positionProblem(redis, keys.stream, followed?.entry);
  if (problem) refuse(problem);
  return epoch;
}

/**
 * Why a replica at `position` (undefined: an empty one) cannot follow the stream from
 * there, or undefined when it can: the entries after it were trimmed away, or the
 * stream no longer holds the entry it applied last (Redis lost acknowledged entries).
 */
async function positionProblem(redis: Redis, stream: string, position: string | undefined): Promise<string | undefined> {
  const info = await redis.call("XINFO", "STREAM", stream).catch((err: Error) => {
    if (/no such key/i.test(err.message)) return null;
    throw err;
  });
  if (!Array.isArray(info)) return position === undefined ? undefined : `the log's stream is gone from Redis (was Redis flushed or replaced?), though this node applied it up to ${position}`;
  const trimmed = Number(field(info, "entries-added")) > Number(field(info, "length")) || compareEntryIds(position ?? "0-0", String(field(info, "max-deleted-entry-id") ?? "0-0")) < 0;
  if (position === undefined) return trimmed ? "the log no longer holds its first entries: they were trimmed (CHAT_REDIS_MAXLEN)" : undefined;
  const kept = (await redis.xrange(stream, position, position)) as unknown[];
  if (kept.length > 0) return undefined;
  if (trimmed && compareEntryIds(String((field(info, "first-entry") as unknown[] | null)?.[0] ?? "0-0"), position) > 0) {
    return `the log no longer holds the entries after this database's position (${position}): they were trimmed (CHAT_REDIS_MAXLEN)`;
  }
  return `the log in Redis no longer holds entry ${position}, which this database applied: Redis lost acknowledged entries (appendfsync everysec and a crash?)`;
}
