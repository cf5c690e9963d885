/**
 * Server options: one table of settings, each readable from an environment
 * variable and the matching command-line flag (the flag wins). The README's
 * configuration table lists the same rows; a test keeps the two in step.
 */
import { TrustedProxies } from "./server/clientAddress.js";
import { LOOP_SYNC_MS } from "./store/syncPlacement.js";

export interface Options {
  /** @default 8080; 0 picks a free port */
  port: number;
  /** @default "0.0.0.0" */
  host: string;
  /** Seed-compatible sign-in without a token. @default false */
  openAuth: boolean;
  /** Largest accepted frame in bytes; larger ones close the connection with 1009. @default 65536 */
  maxFrameBytes: number;
  /** pino level: fatal, error, warn, info, debug, trace or silent. @default "info" */
  logLevel: string;
  /** SQLite file (its directory is created), or ":memory:" to keep state in the process only. @default "./data/chat.db" */
  db: string;
  /** Requests a connection may make per second, sustained. @default 20 */
  ratePerSecond: number;
  /** Requests a connection may make at once before the rate applies. @default 60 */
  rateBurst: number;
  /** Refused requests in a row after which a flooding connection is closed with 1008. @default 50 */
  floodCloseAfter: number;
  /** Unsent bytes a connection may have queued before it is closed with 1008. @default 1048576 */
  maxBufferedBytes: number;
  /** Interval of WebSocket pings; a peer that misses one is dropped. 0 turns them off. @default 30000 */
  heartbeatMs: number;
  /** Open WebSocket connections in all (TCP connections: this plus 10 %, at least 128). @default 10000 */
  maxConnections: number;
  /** Open TCP connections from one client (an IPv4 address, an IPv6 /64), counted from the accept. @default 256 */
  maxConnectionsPerIp: number;
  /** Rooms one account may own. @default 100 */
  maxRoomsPerAccount: number;
  /** Members one room may have. @default 10000 */
  maxRoomMembers: number;
  /** Rooms one account may be a member of. @default 1000 */
  maxRoomsJoined: number;
  /** Connections signed into one account at once. @default 64 */
  maxSessionsPerAccount: number;
  /** Longest message text, in characters (the protocol's ceiling is 4000). @default 4000 */
  maxMessageChars: number;
  /** Origins browsers may connect from, comma-separated; empty allows the server's own origin only, `*` any. @default "" */
  allowedOrigins: readonly string[];
  /** Host names the server is reached by (the `Host` header), comma-separated; empty accepts any. @default "" */
  publicHosts: readonly string[];
  /** Milliseconds a new TCP connection has to send a complete request head. @default 10000 */
  headersTimeoutMs: number;
  /** Milliseconds an HTTP request may take in all. @default 30000 */
  requestTimeoutMs: number;
  /** Accounts an IP address (an IPv6 /64) may make durable per minute, in bursts of as many. @default 120 */
  accountsPerMinutePerIp: number;
  /** Rooms an IP address (an IPv6 /64) may create per minute, in bursts of as many. @default 60 */
  roomsPerMinutePerIp: number;
  /** Bytes of frames one IP address (an IPv6 /64) may send per second, in bursts of four seconds' worth. @default 262144 */
  bytesPerSecondPerIp: number;
  /** Largest list reply the server builds, in bytes; a longer one is cut short. @default 262144 */
  maxReplyBytes: number;
  /** After a commit, how long later changes wait to be committed together. @default 0 */
  commitWindowMs: number;
  /** The journal's fdatasync runs on the event loop while syncs take at most this long (ms) on average; 0: always on libuv's pool. @default 2 */
  loopSyncMs: number;
  /** Days stored messages are kept; 0 keeps them for good. @default 0 */
  retainDays: number;
  /** Messages kept per conversation (room, lobby, direct); 0 keeps all. @default 0 */
  retainMessages: number;
  /** Proxies whose X-Forwarded-For is believed: addresses or CIDR ranges, comma-separated. @default "" */
  trustedProxies: readonly string[];
  /** Port of the separate /metrics listener; "off" serves no metrics, 0 picks a free port. @default "off" */
  metricsPort: number | null;
  /** Address of the /metrics listener. @default "127.0.0.1" */
  metricsHost: string;
  /** Redis URL: when set, the process is a node of the cluster sharing that Redis. @default "off" */
  redisUrl: string | null;
  /** Prefix of the cluster's Redis keys. @default "chat:" */
  redisPrefix: string;
  /** Log entries Redis keeps (approximately); 0 keeps all. @default 0 */
  redisMaxlen: number;
  /** Milliseconds a command has to reach the log (and a Redis command to answer). @default 3000 */
  redisTimeoutMs: number;
  /** Milliseconds a node's liveness mark lasts unless refreshed; a node silent this long is declared gone. @default 10000 */
  nodeTtlMs: number;
}

type Parser<T> = (raw: string, name: string) => T;

const integer =
  (min: number, max: number): Parser<number> =>
  (raw, name) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new TypeError(`${name} must be an integer from ${min} to ${max}; received ${JSON.stringify(raw)}`);
    }
    return n;
  };

const boolean: Parser<boolean> = (raw, name) => {
  if (["1", "true", "yes", "on", ""].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no", "off"].includes(raw.toLowerCase())) return false;
  throw new TypeError(`${name} must be 1/true or 0/false; received ${JSON.stringify(raw)}`);
};

const oneOf =
  (allowed: readonly string[]): Parser<string> =>
  (raw, name) => {
    if (!allowed.includes(raw)) throw new TypeError(`${name} must be one of ${allowed.join(", ")}; received ${JSON.stringify(raw)}`);
    return raw;
  };

const text: Parser<string> = (raw) => raw;

/** A list of addresses and CIDR ranges, checked now so that a typo is a start-up message, not a stack trace. */
const proxies: Parser<readonly string[]> = (raw, name) => {
  const entries = list(raw, name);
  try {
    new TrustedProxies(entries);
  } catch (err) {
    throw new TypeError(`${name}: ${(err as Error).message}`);
  }
  return entries;
};

const textOrOff: Parser<string | null> = (raw) => (raw === "" || raw.toLowerCase() === "off" ? null : raw);

const portOrOff: Parser<number | null> = (raw, name) => (raw === "" || raw.toLowerCase() === "off" ? null : integer(0, 65535)(raw, name));

const list: Parser<readonly string[]> = (raw) =>
  Object.freeze(raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0));

interface Setting<K extends keyof Options> {
  key: K;
  env: string;
  flag: string;
  default: Options[K];
  parse: Parser<Options[K]>;
  doc: string;
}

function setting<K extends keyof Options>(s: Setting<K>): Setting<K> {
  return s;
}

export const SETTINGS = [
  setting({ key: "port", env: "PORT", flag: "--port", default: 8080, parse: integer(0, 65535), doc: "TCP port; `0` picks a free one (the start-up line shows which)" }),
  setting({ key: "host", env: "HOST", flag: "--host", default: "0.0.0.0", parse: text, doc: "address to listen on" }),
  setting({ key: "openAuth", env: "CHAT_OPEN_AUTH", flag: "--open-auth", default: false, parse: boolean, doc: "sign-in as the seed system had it: `auth` with only a `user_id` enters any account (a token, when given, is still checked)" }),
  setting({ key: "maxFrameBytes", env: "CHAT_MAX_FRAME_BYTES", flag: "--max-frame-bytes", default: 65536, parse: integer(1024, 16 * 1024 * 1024), doc: "largest accepted frame; a larger one closes the connection with 1009" }),
  setting({ key: "db", env: "CHAT_DB", flag: "--db", default: "./data/chat.db", parse: text, doc: "SQLite file holding accounts, rooms and history (its folder is created); `:memory:` keeps nothing" }),
  setting({ key: "ratePerSecond", env: "CHAT_RATE_PER_SECOND", flag: "--rate-per-second", default: 20, parse: integer(1, 1_000_000), doc: "requests per second a connection may make, sustained" }),
  setting({ key: "rateBurst", env: "CHAT_RATE_BURST", flag: "--rate-burst", default: 60, parse: integer(1, 1_000_000), doc: "requests a connection may make at once" }),
  setting({ key: "floodCloseAfter", env: "CHAT_FLOOD_CLOSE_AFTER", flag: "--flood-close-after", default: 50, parse: integer(1, 1_000_000), doc: "refused requests in a row before a flooding connection is closed with 1008" }),
  setting({ key: "maxBufferedBytes", env: "CHAT_MAX_BUFFERED_BYTES", flag: "--max-buffered-bytes", default: 1024 * 1024, parse: integer(1024, 1024 ** 3), doc: "unsent bytes queued for one connection before it is closed with 1008 (a slow consumer)" }),
  setting({ key: "heartbeatMs", env: "CHAT_HEARTBEAT_MS", flag: "--heartbeat-ms", default: 30_000, parse: integer(0, 3_600_000), doc: "ping interval; a connection that misses a pong is dropped; 0 turns pings off" }),
  setting({ key: "maxConnections", env: "CHAT_MAX_CONNECTIONS", flag: "--max-connections", default: 10_000, parse: integer(1, 10_000_000), doc: "open WebSocket connections in all; more are refused with HTTP 503 (TCP connections in all are capped at this plus 10 %, at least 128)" }),
  setting({ key: "maxConnectionsPerIp", env: "CHAT_MAX_CONNECTIONS_PER_IP", flag: "--max-connections-per-ip", default: 256, parse: integer(1, 10_000_000), doc: "open TCP connections, plain HTTP or WebSocket, from one client (an IPv4 address, an IPv6 /64), counted from the accept; more are refused with HTTP 429" }),
  setting({ key: "maxRoomsPerAccount", env: "CHAT_MAX_ROOMS_PER_ACCOUNT", flag: "--max-rooms-per-account", default: 100, parse: integer(1, 10_000_000), doc: "rooms one account may own (`limit_reached`)" }),
  setting({ key: "maxRoomMembers", env: "CHAT_MAX_ROOM_MEMBERS", flag: "--max-room-members", default: 10_000, parse: integer(1, 10_000_000), doc: "members one room may have (`limit_reached`)" }),
  setting({ key: "maxRoomsJoined", env: "CHAT_MAX_ROOMS_JOINED", flag: "--max-rooms-joined", default: 1000, parse: integer(1, 10_000_000), doc: "rooms one account may be a member of (`limit_reached`); bounds the room list in the `auth` reply" }),
  setting({ key: "maxSessionsPerAccount", env: "CHAT_MAX_SESSIONS_PER_ACCOUNT", flag: "--max-sessions-per-account", default: 64, parse: integer(1, 1_000_000), doc: "connections signed into one account at once; `auth` beyond it is `limit_reached` (bounds the `signed_in_elsewhere` fan-out)" }),
  setting({ key: "maxMessageChars", env: "CHAT_MAX_MESSAGE_CHARS", flag: "--max-message-chars", default: 4000, parse: integer(1, 4000), doc: "longest message text (`bad_request`)" }),
  setting({ key: "allowedOrigins", env: "CHAT_ALLOWED_ORIGINS", flag: "--allowed-origins", default: Object.freeze([]) as readonly string[], parse: list, doc: "comma-separated origins browsers may connect from besides the server's own (others get HTTP 403); `*` allows any" }),
  setting({ key: "publicHosts", env: "CHAT_PUBLIC_HOSTS", flag: "--public-hosts", default: Object.freeze([]) as readonly string[], parse: list, doc: "comma-separated host names clients reach the server by; when set, a request whose `Host` is another name is refused with HTTP 421, except `/healthz` and `/readyz` (stops DNS rebinding)" }),
  setting({ key: "headersTimeoutMs", env: "CHAT_HEADERS_TIMEOUT_MS", flag: "--headers-timeout-ms", default: 10_000, parse: integer(100, 600_000), doc: "time a new TCP connection has to send a complete request head (a silent or dribbling one is closed)" }),
  setting({ key: "requestTimeoutMs", env: "CHAT_REQUEST_TIMEOUT_MS", flag: "--request-timeout-ms", default: 30_000, parse: integer(100, 600_000), doc: "time an HTTP request may take in all" }),
  setting({ key: "accountsPerMinutePerIp", env: "CHAT_ACCOUNTS_PER_MINUTE_PER_IP", flag: "--accounts-per-minute-per-ip", default: 120, parse: integer(1, 10_000_000), doc: "guest accounts one IP address (IPv6: one /64) may make permanent per minute, in bursts of as many (`rate_limited`)" }),
  setting({ key: "roomsPerMinutePerIp", env: "CHAT_ROOMS_PER_MINUTE_PER_IP", flag: "--rooms-per-minute-per-ip", default: 60, parse: integer(1, 10_000_000), doc: "rooms one IP address (IPv6: one /64) may create per minute, in bursts of as many (`rate_limited`)" }),
  setting({ key: "bytesPerSecondPerIp", env: "CHAT_BYTES_PER_SECOND_PER_IP", flag: "--bytes-per-second-per-ip", default: 256 * 1024, parse: integer(1024, 1024 ** 3), doc: "bytes of WebSocket frames one IP address (IPv6: one /64) may send per second, over all its connections, in bursts of four seconds' worth; a frame over it is not read (`rate_limited`)" }),
  setting({ key: "maxReplyBytes", env: "CHAT_MAX_REPLY_BYTES", flag: "--max-reply-bytes", default: 256 * 1024, parse: integer(16 * 1024, 1024 ** 3), doc: "largest list reply the server builds: a `history` page, `choose_room`\'s recent messages or a `show_rooms` page that would be larger is cut short" }),
  setting({ key: "commitWindowMs", env: "CHAT_COMMIT_WINDOW_MS", flag: "--commit-window-ms", default: 0, parse: integer(0, 1000), doc: "after a commit to the database file, how long later changes wait at least to be committed with others (one fsync for all; their replies and pushes wait too); `0` commits as soon as the commit before is on disk, so that under load each fsync covers what arrived during the one before; no effect with `:memory:`, where a commit costs nothing" }),
  setting({ key: "loopSyncMs", env: "CHAT_LOOP_SYNC_MS", flag: "--loop-sync-ms", default: LOOP_SYNC_MS, parse: integer(0, 1000), doc: "a commit's fdatasync of the changes journal runs on the event loop, where it costs about half the CPU of one on libuv's thread pool, while the syncs take at most this long on average (a moving average of about the last 16); past it they go to the pool for 10 s, so a slow disk holds the event loop for a few syncs at most once in 10 s (one that takes over 16 times this at once; a sync that hangs holds the loop as long); `0` always syncs on the pool. No effect with `:memory:`" }),
  setting({ key: "retainDays", env: "CHAT_RETAIN_DAYS", flag: "--retain-days", default: 0, parse: integer(0, 1_000_000), doc: "days stored messages are kept; `0` keeps them for good" }),
  setting({ key: "retainMessages", env: "CHAT_RETAIN_MESSAGES", flag: "--retain-messages", default: 0, parse: integer(0, 1_000_000_000), doc: "newest messages kept per conversation (a room, the lobby, a direct pair); `0` keeps all" }),
  setting({ key: "trustedProxies", env: "CHAT_TRUSTED_PROXIES", flag: "--trusted-proxies", default: Object.freeze([]) as readonly string[], parse: proxies, doc: "comma-separated addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` names the client" }),
  setting({ key: "metricsPort", env: "CHAT_METRICS_PORT", flag: "--metrics-port", default: null, parse: portOrOff, doc: "port of a separate listener serving `/metrics`; `off` serves none" }),
  setting({ key: "metricsHost", env: "CHAT_METRICS_HOST", flag: "--metrics-host", default: "127.0.0.1", parse: text, doc: "address the `/metrics` listener binds" }),
  setting({ key: "redisUrl", env: "CHAT_REDIS_URL", flag: "--redis-url", default: null, parse: textOrOff, doc: "Redis to run as a cluster node through (`redis://host:6379`); `off` runs a single server needing nothing else" }),
  setting({ key: "redisPrefix", env: "CHAT_REDIS_PREFIX", flag: "--redis-prefix", default: "chat:", parse: text, doc: "prefix of the cluster's Redis keys, so several clusters can share one Redis" }),
  setting({ key: "redisMaxlen", env: "CHAT_REDIS_MAXLEN", flag: "--redis-maxlen", default: 0, parse: integer(0, 1_000_000_000_000), doc: "log entries Redis keeps (approximate trimming); `0` keeps all. A node whose position was trimmed away must be seeded from a backup" }),
  setting({ key: "redisTimeoutMs", env: "CHAT_REDIS_TIMEOUT_MS", flag: "--redis-timeout-ms", default: 3000, parse: integer(100, 600_000), doc: "time a request has to reach the log; past it the request is answered `unavailable` (and void should it arrive later)" }),
  setting({ key: "nodeTtlMs", env: "CHAT_NODE_TTL_MS", flag: "--node-ttl-ms", default: 10_000, parse: integer(1000, 600_000), doc: "how long a node's liveness mark lasts unless refreshed (every third of it); when it expires, another node ends that node's connections" }),
  setting({ key: "logLevel", env: "CHAT_LOG_LEVEL", flag: "--log-level", default: "info", parse: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]), doc: "log level (JSON lines on stdout; readable lines when stdout is a terminal)" }),
] as const;

export const DEFAULTS: Readonly<Options> = Object.freeze(
  Object.fromEntries(SETTINGS.map((s) => [s.key, s.default])) as unknown as Options,
);

/** Reads flags (`--port 0`, `--port=0`, `--open-auth`) over environment variables over defaults. */
export function loadOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Readonly<Options> {
  const options: Record<string, unknown> = { ...DEFAULTS };
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const s = SETTINGS.find((x) => x.flag === flag);
    if (!s) throw new TypeError(`unknown option ${arg}; known: ${SETTINGS.map((x) => x.flag).join(", ")}`);
    if (inline !== undefined) flags.set(flag, inline);
    else if (s.parse === boolean && (argv[i + 1] === undefined || argv[i + 1]!.startsWith("--"))) flags.set(flag, "1");
    else if (argv[i + 1] !== undefined) flags.set(flag, argv[++i]!);
    else throw new TypeError(`${flag} needs a value`);
  }
  for (const s of SETTINGS) {
    const fromFlag = flags.get(s.flag);
    const fromEnv = env[s.env];
    if (fromFlag !== undefined) options[s.key] = s.parse(fromFlag, s.flag);
    else if (fromEnv !== undefined) options[s.key] = s.parse(fromEnv, s.env);
  }
  return Object.freeze(options as unknown as Options);
}
