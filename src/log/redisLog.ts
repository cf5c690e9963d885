/**
 * The cluster's command log: one Redis Stream. Each node appends a turn's commands
 * as one entry through a script that first checks the log's epoch (so that nothing
 * is appended to a Redis that came back empty), and follows the stream with
 * blocking reads in batches. Keys, under the prefix: `log` (the stream), `epoch`
 * (the log's identity), `seeded` (set when the log began from a non-empty
 * database), `rules` (the limits every node must share), `node:<id>` (liveness
 * marks with a TTL).
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

const APPEND_SCRIPT = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return redis.error_reply('EPOCH this Redis does not hold the log this node follows')
end
if ARGV[2] == '0' then
  return redis.call('XADD', KEYS[1], '*', 'e', ARGV[3])
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[3])
`;

type Appender = Redis & { chatAppend(stream: string, epochKey: string, epoch: string, maxlen: string, payload: string): Promise<string> };

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
  /** The newest entry read. */
  #read = "0-0";
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
    writer.defineCommand("chatAppend", { numberOfKeys: 2, lua: APPEND_SCRIPT });
    try {
      await Promise.all([writer.connect(), reader.connect()]);
    } catch (err) {
      writer.disconnect();
      reader.disconnect();
      throw new StoreError(`cannot reach Redis at ${redacted(opts.url)}: ${(err as Error).message}`);
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
    const payload = JSON.stringify({ n: entry.node, b: entry.batch, d: entry.deadline, c: entry.commands });
    const { stream, epoch } = this.#keys;
    try {
      await this.#writer.chatAppend(stream, epoch, this.epoch, String(this.#opts.maxlen), payload);
      this.#trouble = undefined;
    } catch (err) {
      const message = (err as Error).message;
      if (message.startsWith("EPOCH")) {
        this.#loseEpoch();
        throw new NotAppended(this.#epochLost!);
      }
      this.#trouble = `the log (Redis) failed: ${message}`;
      // Refused before anything was sent (no connection): surely not in the log.
      if (message.includes("enableOfflineQueue")) throw new NotAppended(this.#trouble);
      throw err;
    }
  }

  follow(after: string | undefined, deliver: (entries: readonly LogEntry[]) => void): void {
    void this.#readLoop(after ?? "0-0", deliver);
  }

  async #readLoop(after: string, deliver: (entries: readonly LogEntry[]) => void): Promise<void> {
    let last = after;
    while (!this.#closed) {
      try {
        const res = (await this.#reader.xread("COUNT", READ_COUNT, "BLOCK", BLOCK_MS, "STREAMS", this.#keys.stream, last)) as
          | Array<[string, Array<[string, string[]]>]>
          | null;
        if (this.#trouble?.startsWith("reading")) this.#trouble = undefined;
        const rows = res?.[0]?.[1] ?? [];
        if (rows.length === 0) continue;
        const entries = rows.map(([id, fields]) => parseEntry(id, fields));
        last = this.#read = rows[rows.length - 1]![0];
        deliver(entries);
      } catch (err) {
        if (this.#closed) return;
        this.#trouble = `reading the log (Redis) failed: ${(err as Error).message}`;
        this.#opts.logger.debug({ err }, "reading the log failed; trying again");
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async head(): Promise<string | undefined> {
    const last = (await this.#writer.xrevrange(this.#keys.stream, "+", "-", "COUNT", 1)) as Array<[string, string[]]>;
    return last[0]?.[0];
  }

  /** Liveness: sets this node's mark (and checks the epoch and the clock while at it). */
  async join(node: NodeId): Promise<void> {
    await this.#writer.set(this.#nodeKey(node), "1", "PX", this.#opts.nodeTtlMs);
    const epoch = await this.#writer.get(this.#keys.epoch);
    if (epoch !== this.epoch) this.#loseEpoch();
    // A Redis that lost the tail of its log (appendfsync everysec, a crash) would reuse places this node applied.
    const info = await this.#writer.call("XINFO", "STREAM", this.#keys.stream).catch(() => null);
    const generated = Array.isArray(info) ? String(field(info, "last-generated-id")) : "0-0";
    if (compareEntryIds(generated, this.#read) < 0) {
      this.#loseEpoch(`the log in Redis went back (to ${generated}, before ${this.#read}, which this node applied): it lost acknowledged entries; refusing writes`);
    }
    await this.#measureClock();
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

function parseEntry(id: string, fields: string[]): LogEntry {
  const raw = fields[fields.indexOf("e") + 1];
  const e = JSON.parse(raw ?? "null") as { n: string; b: number; d: number; c: LogEntry["commands"] };
  return { id, node: e.n, batch: e.b, deadline: e.d, commands: e.c };
}

/** A URL without its password, for messages. */
function redacted(url: string): string {
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
    if ((await redis.exists(keys.stream)) === 1) refuse("Redis holds log entries but no epoch; refusing to guess whose they are");
    const created = randomUUID();
    // Only one node creates it; the others read the winner's.
    if ((await redis.set(keys.epoch, created, "NX")) === "OK") {
      if (!replica.empty) await redis.set(keys.seeded, "1");
      return created;
    }
    epoch = (await redis.get(keys.epoch))!;
  }
  if (followed && followed.epoch !== epoch) refuse(`this database followed another log (${followed.epoch}, Redis has ${epoch})`);
  if (!followed && !replica.empty) refuse("this database has data but never followed this cluster's log");
  if (!followed && (await redis.get(keys.seeded)) !== null) refuse("this cluster's log began from an existing database, which an empty one cannot replay");
  if (await trimmedPast(redis, keys.stream, followed?.entry)) {
    refuse(`the log no longer holds the entries after this database's position (${followed?.entry ?? "the start"}): they were trimmed (CHAT_REDIS_MAXLEN)`);
  }
  return epoch;
}

/**
 * Whether entries after `position` may have been trimmed or deleted. Trimming leaves no
 * trace of the ids it removed, so a position that is itself gone counts as passed.
 */
async function trimmedPast(redis: Redis, stream: string, position: string | undefined): Promise<boolean> {
  const info = await redis.call("XINFO", "STREAM", stream).catch(() => null);
  if (!Array.isArray(info)) return false;
  if (compareEntryIds(position ?? "0-0", String(field(info, "max-deleted-entry-id") ?? "0-0")) < 0) return true;
  if (Number(field(info, "entries-added")) === Number(field(info, "length"))) return false;
  if (position === undefined) return true;
  const kept = (await redis.xrange(stream, position, position)) as unknown[];
  return kept.length === 0;
}
