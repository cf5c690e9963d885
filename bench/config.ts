/**
 * Bench parameters: one table, each row readable from a `--flag` or a `BENCH_*`
 * environment variable (the flag wins), mirroring src/config.ts. `--quick` swaps in
 * small defaults for a smoke run; explicit flags still override them.
 */
import { spawnSync } from "node:child_process";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";

export type ServerKind = "ours" | "raw" | "socketio";
export type WorkloadName = "rooms" | "saturation" | "lobby" | "idle";
export const WORKLOADS: readonly WorkloadName[] = ["rooms", "saturation", "lobby", "idle"];

export interface BenchOptions {
  servers: string[];
  workloads: WorkloadName[];
  disk: boolean;
  clients: number;
  roomSize: number;
  rate: number;
  msgBytes: number;
  warmup: number;
  duration: number;
  lobbyClients: number;
  lobbyRate: number;
  idleClients: number;
  satStart: number;
  satFactor: number;
  satSteps: number;
  satWarmup: number;
  satDuration: number;
  satP99Ms: number;
  loadgenProcs: number;
  cpuProf: boolean;
  oursRef: string;
  quietWait: number;
  out: string;
  quick: boolean;
  clusterNodes: number;
  redisServer: string;
  noisyRetries: number;
  repeat: number;
}

type Parse<T> = (raw: string, name: string) => T;

const num =
  (min: number, max: number, integer = true): Parse<number> =>
  (raw, name) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      throw new TypeError(`${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}; received ${JSON.stringify(raw)}`);
    }
    return n;
  };
const bool: Parse<boolean> = (raw, name) => {
  if (["1", "true", "yes", "on", ""].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no", "off"].includes(raw.toLowerCase())) return false;
  throw new TypeError(`${name} must be 1/true or 0/false; received ${JSON.stringify(raw)}`);
};
const list =
  <T extends string>(allowed: readonly T[] | null): Parse<T[]> =>
  (raw, name) => {
    const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const bad = allowed === null ? [] : items.filter((s) => !(allowed as readonly string[]).includes(s));
    if (items.length === 0 || bad.length > 0) {
      throw new TypeError(`${name} takes a comma-separated list${allowed ? ` of ${allowed.join(", ")}` : ""}; received ${JSON.stringify(raw)}`);
    }
    return items as T[];
  };
const text: Parse<string> = (raw) => raw;

interface Setting<K extends keyof BenchOptions> {
  key: K;
  flag: string;
  env: string;
  default: BenchOptions[K];
  /** Default under --quick, when it differs. */
  quick?: BenchOptions[K];
  parse: Parse<BenchOptions[K]>;
  doc: string;
}
const setting = <K extends keyof BenchOptions>(s: Setting<K>): Setting<K> => s;

/** Two cores are shared by server and load generator; more processes only help on bigger machines. */
const defaultProcs = Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));

export const SETTINGS = [
  setting({ key: "servers", flag: "--servers", env: "BENCH_SERVERS", default: ["ours", "ours-cluster", "raw", "socketio"], parse: list(null), doc: "server variants to run (names from SERVER_VARIANTS)" }),
  setting({ key: "workloads", flag: "--workloads", env: "BENCH_WORKLOADS", default: [...WORKLOADS], parse: list(WORKLOADS), doc: "workloads to run" }),
  setting({ key: "disk", flag: "--disk", env: "BENCH_DISK", default: false, parse: bool, doc: "also run our server on an on-disk database (CHAT_DB=<tmpfile>)" }),
  setting({ key: "clients", flag: "--clients", env: "BENCH_CLIENTS", default: 1000, quick: 200, parse: num(2, 100_000), doc: "connections in the rooms and saturation workloads" }),
  setting({ key: "roomSize", flag: "--room-size", env: "BENCH_ROOM_SIZE", default: 20, parse: num(2, 10_000), doc: "connections per room" }),
  setting({ key: "rate", flag: "--rate", env: "BENCH_RATE", default: 1, parse: num(0.01, 1000, false), doc: "messages/s each client sends in the rooms workload" }),
  setting({ key: "msgBytes", flag: "--msg-bytes", env: "BENCH_MSG_BYTES", default: 100, parse: num(40, 4000), doc: "message text length (chars)" }),
  setting({ key: "warmup", flag: "--warmup", env: "BENCH_WARMUP", default: 5, quick: 1, parse: num(0, 600, false), doc: "seconds of load before measuring" }),
  setting({ key: "duration", flag: "--duration", env: "BENCH_DURATION", default: 10, quick: 3, parse: num(1, 600, false), doc: "seconds measured (rooms, lobby)" }),
  setting({ key: "lobbyClients", flag: "--lobby-clients", env: "BENCH_LOBBY_CLIENTS", default: 1000, quick: 200, parse: num(2, 100_000), doc: "connections receiving the lobby fan-out" }),
  setting({ key: "lobbyRate", flag: "--lobby-rate", env: "BENCH_LOBBY_RATE", default: 20, parse: num(0.1, 10_000, false), doc: "messages/s from the single lobby sender" }),
  setting({ key: "idleClients", flag: "--idle-clients", env: "BENCH_IDLE_CLIENTS", default: 10_000, quick: 1000, parse: num(10, 100_000), doc: "idle connections for the memory workload" }),
  setting({ key: "satStart", flag: "--sat-start", env: "BENCH_SAT_START", default: 10_000, quick: 5000, parse: num(100, 10_000_000), doc: "offered deliveries/s at the first saturation step" }),
  setting({ key: "satFactor", flag: "--sat-factor", env: "BENCH_SAT_FACTOR", default: 1.4, parse: num(1.05, 10, false), doc: "offered load multiplier per step" }),
  setting({ key: "satSteps", flag: "--sat-steps", env: "BENCH_SAT_STEPS", default: 9, quick: 3, parse: num(1, 50), doc: "most saturation steps per server" }),
  setting({ key: "satWarmup", flag: "--sat-warmup", env: "BENCH_SAT_WARMUP", default: 2, quick: 1, parse: num(0, 60, false), doc: "warm-up seconds per step" }),
  setting({ key: "satDuration", flag: "--sat-duration", env: "BENCH_SAT_DURATION", default: 4, quick: 2, parse: num(1, 120, false), doc: "measured seconds per step" }),
  setting({ key: "satP99Ms", flag: "--sat-p99-ms", env: "BENCH_SAT_P99_MS", default: 100, parse: num(1, 60_000, false), doc: "a step fails when p99 latency exceeds this" }),
  setting({ key: "loadgenProcs", flag: "--loadgen-procs", env: "BENCH_LOADGEN_PROCS", default: defaultProcs, parse: num(1, 64), doc: "load generator processes" }),
  setting({ key: "cpuProf", flag: "--cpu-prof", env: "BENCH_CPU_PROF", default: false, parse: bool, doc: "run our server under node --cpu-prof (profiles in bench/results/tmp/)" }),
  setting({ key: "oursRef", flag: "--ours-ref", env: "BENCH_OURS_REF", default: "", parse: text, doc: "run our server from this git commit (a git-archive snapshot) instead of the working tree" }),
  setting({ key: "quietWait", flag: "--quiet-wait", env: "BENCH_QUIET_WAIT", default: 60, quick: 5, parse: num(0, 3600), doc: "before each run, wait up to this many seconds for other processes to leave the CPUs idle" }),
  setting({ key: "out", flag: "--out", env: "BENCH_OUT", default: "bench/results", parse: text, doc: "directory for the results JSON" }),
  setting({ key: "noisyRetries", flag: "--noisy-retries", env: "BENCH_NOISY_RETRIES", default: 2, quick: 0, parse: num(0, 10), doc: "rooms and lobby: measure again (once the machine is quiet) this many times at most while other processes make the window noisy; the least noisy window is kept" }),
  setting({ key: "repeat", flag: "--repeat", env: "BENCH_REPEAT", default: 1, parse: num(1, 20), doc: "rooms and lobby: run each server this many times, taking turns, and report the run with the median deliveries per server CPU-second (all runs' figures are kept): single runs move by a third on a noisy host" }),
  setting({ key: "clusterNodes", flag: "--cluster-nodes", env: "BENCH_CLUSTER_NODES", default: 2, parse: num(1, 16), doc: "node processes of the ours-cluster variants (each with its own CHAT_DB), sharing one redis-server" }),
  setting({ key: "redisServer", flag: "--redis-server", env: "BENCH_REDIS_SERVER", default: "redis-server", parse: text, doc: "redis-server binary the cluster variants start (their own, on a free port, in a temp folder)" }),
  setting({ key: "quick", flag: "--quick", env: "BENCH_QUICK", default: false, parse: bool, doc: "small sizes and short windows, for a smoke run" }),
] as const;

type AnySetting = (typeof SETTINGS)[number];

export function usage(): string {
  const rows = SETTINGS.map((s: AnySetting) => `  ${s.flag.padEnd(18)} ${s.env.padEnd(22)} ${JSON.stringify(s.default).padEnd(34)} ${s.doc}`);
  return ["npm run bench -- [flags]   (flag, env, default, meaning)", ...rows].join("\n");
}

/** Flags (`--x 1`, `--x=1`, bare boolean `--x`) over `BENCH_*` env over (quick) defaults. */
export function loadBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Readonly<BenchOptions> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const s = SETTINGS.find((x: AnySetting) => x.flag === flag);
    if (!s) throw new TypeError(`unknown option ${arg}\n${usage()}`);
    if (inline !== undefined) flags.set(flag, inline);
    else if (s.parse === bool && (argv[i + 1] === undefined || argv[i + 1]!.startsWith("--"))) flags.set(flag, "1");
    else if (argv[i + 1] !== undefined) flags.set(flag, argv[++i]!);
    else throw new TypeError(`${flag} needs a value`);
  }
  const raw = (s: AnySetting): [string, string] | undefined => {
    const f = flags.get(s.flag);
    if (f !== undefined) return [f, s.flag];
    const e = env[s.env];
    return e === undefined ? undefined : [e, s.env];
  };
  const quickSetting = SETTINGS.find((s) => s.key === "quick")!;
  const quickRaw = raw(quickSetting);
  const quick = quickRaw ? bool(quickRaw[0], quickRaw[1]) : false;
  const options: Record<string, unknown> = {};
  for (const s of SETTINGS as readonly AnySetting[]) {
    const given = raw(s);
    const fallback = quick && "quick" in s && s.quick !== undefined ? s.quick : s.default;
    options[s.key] = given ? (s.parse as Parse<unknown>)(given[0], given[1]) : fallback;
  }
  const result = options as unknown as BenchOptions;
  if (result.clients % result.roomSize !== 0) {
    throw new TypeError(`--clients (${result.clients}) must be a multiple of --room-size (${result.roomSize}) so every room is full`);
  }
  return Object.freeze(result);
}

/** How to start one server under test. */
export interface ServerVariant {
  /** Short name used in --servers, tables and JSON. */
  name: string;
  kind: ServerKind;
  label: string;
  /** Node arguments after `node`, relative to `cwd`. */
  args: string[];
  /** Where the server runs; the repo root unless --ours-ref points ours at a snapshot. */
  cwd?: string;
  env: Record<string, string>;
  /**
   * Cluster mode: `nodes` processes of this variant (each with `env`, its own CHAT_DB
   * and CHAT_REDIS_URL) share one redis-server started for the run; clients are spread
   * over the nodes round-robin, and the server CPU is that of every node and of Redis.
   * `single` names the variant measured as the single-server counterpart (ratio column).
   */
  cluster?: { nodes: number; redisServer: string; single: string; /** redis-server --appendfsync; "always" unless a diagnostic asks otherwise. */ appendfsync?: "always" | "everysec" | "no" };
  /** False when this variant should be skipped; the reason is reported. */
  enabled(opts: BenchOptions): boolean | string;
}

const tsx = ["--import", "tsx"];
/** Node flags of our server, as package.json's start script gives them: measured as it is run. */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=64"];
const ours = ["src/main.ts", "--port", "0", "--host", "127.0.0.1", "--log-level", "info"];

/**
 * Every load generator connects from 127.0.0.1, so per-IP and total connection caps
 * and the per-IP quotas on new accounts and rooms would refuse most clients, and the per-connection rate limit would measure policy
 * rather than capacity. They are lifted, not removed: the admission and token-bucket
 * code still runs on every connection and request.
 */
export const OURS_LIMITS: Record<string, string> = {
  CHAT_MAX_CONNECTIONS: "10000000",
  CHAT_MAX_CONNECTIONS_PER_IP: "10000000",
  CHAT_RATE_PER_SECOND: "1000000",
  CHAT_RATE_BURST: "1000000",
  CHAT_ACCOUNTS_PER_MINUTE_PER_IP: "10000000",
  CHAT_ROOMS_PER_MINUTE_PER_IP: "10000000",
  CHAT_BYTES_PER_SECOND_PER_IP: String(1024 ** 3),
};

/**
 * The servers a run may include. "Ours" variants differ only in environment; an
 * added storage backend is one more row here. Ratio columns are computed for
 * every `kind: "ours"` variant against `raw` and `socketio`.
 */
/** Our server (src/main.ts on a free loopback port) with exactly this environment on top of the process's. */
export function oursWith(env: Record<string, string>, name = "ours", label = "ours"): ServerVariant {
  return { name, kind: "ours", label, args: [...SERVER_NODE_FLAGS, ...tsx, ...ours], env, enabled: () => true };
}

export const SERVER_VARIANTS: readonly ServerVariant[] = [
  oursWith({ ...OURS_LIMITS, CHAT_DB: ":memory:" }, "ours", "ours (memory)"),
  {
    // A fresh file per spawn: servers.ts replaces {spawn} and deletes the file afterwards.
    ...oursWith({ ...OURS_LIMITS, CHAT_DB: join(tmpdir(), "chat-bench-{spawn}.db") }, "ours-disk", "ours (SQLite file)"),
    // Opt-in: it lengthens the run by a third, and a server older than CHAT_DB support would silently measure memory.
    enabled: (o) => o.disk || "needs --disk (BENCH_DISK=1)",
  },
  // Cluster mode: 2 nodes (--cluster-nodes) + one redis-server (appendonly, fsync always); see servers.ts.
  {
    ...oursWith({ ...OURS_LIMITS, CHAT_DB: ":memory:" }, "ours-cluster", "ours cluster (2 nodes + Redis, memory)"),
    cluster: { nodes: 2, redisServer: "redis-server", single: "ours" },
    enabled: (o) => redisServerMissing(o.redisServer) ?? true,
  },
  {
    ...oursWith({ ...OURS_LIMITS, CHAT_DB: join(tmpdir(), "chat-bench-{spawn}.db") }, "ours-cluster-disk", "ours cluster (2 nodes + Redis, SQLite files)"),
    cluster: { nodes: 2, redisServer: "redis-server", single: "ours-disk" },
    enabled: (o) => (!o.disk ? "needs --disk (BENCH_DISK=1)" : redisServerMissing(o.redisServer) ?? true),
  },
  { name: "raw", kind: "raw", label: "raw ws", args: [...tsx, "bench/baselines/rawRelay.ts"], env: {}, enabled: () => true },
  // The raw relay with a journal and an fdatasync per group of frames: the least a durable server pays here.
  { name: "raw-durable", kind: "raw", label: "raw ws + fdatasync", args: [...tsx, "bench/baselines/durableRelay.ts"], env: {}, enabled: () => true },
  { name: "socketio", kind: "socketio", label: "Socket.IO 4", args: [...tsx, "bench/baselines/socketioServer.ts"], env: {}, enabled: () => true },
];

/** Whether `bin --version` runs: the cluster variants need a redis-server. */
export function redisServerMissing(bin: string): string | null {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 5000 });
  if (r.error) return `${bin} cannot be run (${r.error.message}); set --redis-server (BENCH_REDIS_SERVER)`;
  return r.status === 0 ? null : `${bin} --version exited with ${r.status}`;
}

/** The cluster variants as this run's options make them (node count, redis-server binary). */
function clustered(v: ServerVariant, opts: BenchOptions): ServerVariant {
  if (!v.cluster) return v;
  const cluster = { ...v.cluster, nodes: opts.clusterNodes, redisServer: opts.redisServer };
  return { ...v, cluster, label: v.label.replace(/\d+ nodes/, `${cluster.nodes} node${cluster.nodes === 1 ? "" : "s"}`) };
}

/** The variants a run uses: those named in --servers, plus ours-disk (and ours-cluster-disk when the cluster runs, raw-durable when raw does) when --disk asks. */
export function selectVariants(opts: BenchOptions): { run: ServerVariant[]; skipped: string[] } {
  const names = new Set(opts.servers);
  if (opts.disk) names.add("ours-disk");
  if (opts.disk && names.has("raw")) names.add("raw-durable");
  if (opts.disk && names.has("ours-cluster")) names.add("ours-cluster-disk");
  const unknown = [...names].filter((n) => !SERVER_VARIANTS.some((v) => v.name === n));
  if (unknown.length > 0) {
    throw new TypeError(`unknown server ${unknown.join(", ")}; known: ${SERVER_VARIANTS.map((v) => v.name).join(", ")}`);
  }
  const run: ServerVariant[] = [];
  const skipped: string[] = [];
  for (const v of SERVER_VARIANTS) {
    if (!names.has(v.name)) continue;
    const ok = v.enabled(opts);
    if (ok === true) run.push(clustered(v, opts));
    else skipped.push(`${v.name}: ${ok === false ? "disabled" : ok}`);
  }
  return { run, skipped };
}
