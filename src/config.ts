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
  /** SQLite file (its directory is created), or ":memory:" to keep nothing. @default "./data/chat.db" */
  db: string;
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
  setting({ key: "port", env: "PORT", flag: "--port", default: 8080, parse: integer(0, 65535), doc: "TCP port; 0 picks a free one" }),
  setting({ key: "host", env: "HOST", flag: "--host", default: "0.0.0.0", parse: text, doc: "address to listen on" }),
  setting({ key: "openAuth", env: "CHAT_OPEN_AUTH", flag: "--open-auth", default: false, parse: boolean, doc: "seed-compatible `auth` without a token (anyone may enter any account)" }),
  setting({ key: "maxFrameBytes", env: "CHAT_MAX_FRAME_BYTES", flag: "--max-frame-bytes", default: 65536, parse: integer(1024, 16 * 1024 * 1024), doc: "largest accepted frame; a larger one closes the connection with 1009" }),
  setting({ key: "db", env: "CHAT_DB", flag: "--db", default: "./data/chat.db", parse: text, doc: "SQLite file; `:memory:` keeps nothing" }),
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
