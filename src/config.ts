/**
 * Server options: one table of settings, each readable from an environment
 * variable and the matching command-line flag (the flag wins). The README's
 * configuration table lists the same rows; a test keeps the two in step.
 */
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
  /** Unsent bytes a connection may have queued before it is closed with 1008. @default 4194304 */
  maxBufferedBytes: number;
  /** Interval of WebSocket pings; a peer that misses one is dropped. 0 turns them off. @default 30000 */
  heartbeatMs: number;
  /** Open connections in all. @default 10000 */
  maxConnections: number;
  /** Open connections from one IP address. @default 256 */
  maxConnectionsPerIp: number;
  /** Rooms one account may own. @default 100 */
  maxRoomsPerAccount: number;
  /** Members one room may have. @default 10000 */
  maxRoomMembers: number;
  /** Longest message text, in characters (the protocol's ceiling is 4000). @default 4000 */
  maxMessageChars: number;
  /** Origins browsers may connect from, comma-separated; empty allows any. @default "" */
  allowedOrigins: readonly string[];
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
  setting({ key: "maxBufferedBytes", env: "CHAT_MAX_BUFFERED_BYTES", flag: "--max-buffered-bytes", default: 4 * 1024 * 1024, parse: integer(1024, 1024 ** 3), doc: "unsent bytes queued for one connection before it is closed with 1008 (a slow consumer)" }),
  setting({ key: "heartbeatMs", env: "CHAT_HEARTBEAT_MS", flag: "--heartbeat-ms", default: 30_000, parse: integer(0, 3_600_000), doc: "ping interval; a connection that misses a pong is dropped; 0 turns pings off" }),
  setting({ key: "maxConnections", env: "CHAT_MAX_CONNECTIONS", flag: "--max-connections", default: 10_000, parse: integer(1, 10_000_000), doc: "open connections in all; more are refused with HTTP 503" }),
  setting({ key: "maxConnectionsPerIp", env: "CHAT_MAX_CONNECTIONS_PER_IP", flag: "--max-connections-per-ip", default: 256, parse: integer(1, 10_000_000), doc: "open connections from one IP address; more are refused with HTTP 429" }),
  setting({ key: "maxRoomsPerAccount", env: "CHAT_MAX_ROOMS_PER_ACCOUNT", flag: "--max-rooms-per-account", default: 100, parse: integer(1, 10_000_000), doc: "rooms one account may own (`limit_reached`)" }),
  setting({ key: "maxRoomMembers", env: "CHAT_MAX_ROOM_MEMBERS", flag: "--max-room-members", default: 10_000, parse: integer(1, 10_000_000), doc: "members one room may have (`limit_reached`)" }),
  setting({ key: "maxMessageChars", env: "CHAT_MAX_MESSAGE_CHARS", flag: "--max-message-chars", default: 4000, parse: integer(1, 4000), doc: "longest message text (`bad_request`)" }),
  setting({ key: "allowedOrigins", env: "CHAT_ALLOWED_ORIGINS", flag: "--allowed-origins", default: Object.freeze([]) as readonly string[], parse: list, doc: "comma-separated origins browsers may connect from (others get HTTP 403); empty allows any" }),
  setting({ key: "logLevel", env: "CHAT_LOG_LEVEL", flag: "--log-level", default: "info", parse: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]), doc: "log level (JSON lines on stdout)" }),
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
