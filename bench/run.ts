/**
 * `npm run bench`: runs each workload against each server variant, each in fresh
 * processes, prints one table per workload and writes bench/results/<time>.json.
 * Progress goes to stderr, tables to stdout.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chartPathFor, writeChart } from "./chart.js";
import { loadBenchOptions, selectVariants, usage, type BenchOptions, type ServerVariant, type WorkloadName } from "./config.js";
import { machineInfo } from "./proc.js";
import { waitQuiet } from "./quiet.js";
import { formatTop, topFunctions, type ProfileEntry } from "./profileTop.js";
import { ratioPairs, ratios, table, type Outcome, type WorkloadResults } from "./report.js";
import { killAll } from "./servers.js";
import { oursSource, type OursSource } from "./source.js";
import { idleCapacity, idleWorkload } from "./workloads/idle.js";
import { lobbyWorkload, medianRun, roomsWorkload, type FixedLoadResult } from "./workloads/load.js";
import { saturationWorkload } from "./workloads/saturation.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(usage());
  process.exit(0);
}
let opts: Readonly<BenchOptions>;
let variants: ServerVariant[];
let source: OursSource;
const notes: string[] = [];
try {
  opts = loadBenchOptions(process.argv.slice(2), process.env);
  const selected = selectVariants(opts);
  source = oursSource(ROOT, opts.oursRef);
  variants = selected.run.map((v) => (v.kind === "ours" ? { ...v, cwd: source.dir } : v));
  notes.push(...selected.skipped.map((s) => `skipped ${s}`));
} catch (err) {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(2);
}

/** Rough upper bound of the run's length; past 3× this, something hangs and we stop. */
function budgetSeconds(o: BenchOptions): number {
  // A noisy rooms or lobby window is measured again, after waiting for quiet, up to --noisy-retries times.
  const fixed = (o.warmup + o.duration) * (1 + o.noisyRetries) + o.noisyRetries * o.quietWait + 40;
  const per = o.workloads.length * o.quietWait + (o.workloads.includes("rooms") ? fixed : 0)
    + (o.workloads.includes("lobby") ? fixed : 0)
    + (o.workloads.includes("saturation") ? o.satSteps * (o.satWarmup + o.satDuration + 8) + 40 : 0)
    + (o.workloads.includes("idle") ? 120 : 0);
  return per * variants.length * (o.cpuProf ? 2 : 1);
}
const deadline = setTimeout(() => {
  log(`deadline passed (${3 * budgetSeconds(opts)} s): killing the processes this run started`);
  killAll();
  source.dispose();
  process.exit(3);
}, 3 * budgetSeconds(opts) * 1000);
deadline.unref();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAll();
    source.dispose();
    process.exit(130);
  });
}
// Whatever ends the run (a crash included), no server, redis-server or temp folder outlives it; a normal end has stopped them already.
process.on("exit", () => killAll());

async function attempt<T>(what: string, work: () => Promise<T>): Promise<Outcome<T>> {
  const t0 = performance.now();
  try {
    const result = await work();
    log(`${what}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { ok: true, result };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    log(`${what}: FAILED: ${error}`);
    return { ok: false, error };
  }
}

const idle = idleCapacity(opts.idleClients);
if (idle.note) notes.push(idle.note);

const titles: Record<WorkloadName, string> = {
  rooms: `rooms — ${opts.clients} connections in ${opts.clients / opts.roomSize} rooms of ${opts.roomSize}; each client sends ${opts.rate} msg/s (${opts.msgBytes}-char text); warm-up ${opts.warmup} s, measured ${opts.duration} s`,
  saturation: `saturation — the rooms workload, send rate ×${opts.satFactor} per step from ${opts.satStart / opts.roomSize} msgs/s (${opts.satWarmup} s warm-up + ${opts.satDuration} s per step); a step fails at p99 > ${opts.satP99Ms} ms, deliveries < 95% of expected, or loss`,
  lobby: `lobby fan-out — 1 sender at ${opts.lobbyRate} msg/s to ${opts.lobbyClients} connections (ours: room_id "all"; baselines: broadcast); warm-up ${opts.warmup} s, measured ${opts.duration} s`,
  idle: `idle — ${idle.clients} idle connections; server RSS delta / connections`,
};

const machine = machineInfo();
const startedAt = new Date();
console.log(`chat-server bench — ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, open files ${machine.fdLimit.soft}/${machine.fdLimit.hard}`);
console.log(`our server: ${source.ref} (commit ${source.commit.slice(0, 10)}${source.dirty ? ", with uncommitted changes in src/ or schemas/" : ""})`);
console.log(`servers: ${variants.map((v) => v.label).join(", ")}; load generator processes: ${opts.loadgenProcs}`);
for (const n of notes) console.log(`note: ${n}`);
const notesShown = notes.length;

const results: WorkloadResults = { rooms: {}, saturation: {}, lobby: {}, idle: {} };
const tables: string[] = [];
const profiles: Record<string, ProfileEntry[]> = {};

for (const workload of opts.workloads) {
  log(`workload ${workload}`);
  const rounds = workload === "rooms" || workload === "lobby" ? opts.repeat : 1;
  const runs = new Map<string, FixedLoadResult[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const v of variants) {
      const what = `${workload} / ${v.name}${rounds > 1 ? ` (run ${round} of ${rounds})` : ""}`;
      const busy = await waitQuiet(what, opts.quietWait, log);
      if (busy) notes.push(busy);
      log(`${what}: starting`);
      switch (workload) {
        case "rooms":
        case "lobby": {
          const outcome = await attempt(what, () => (workload === "rooms" ? roomsWorkload(v, opts, ROOT) : lobbyWorkload(v, opts, ROOT)));
          if (outcome.ok) runs.set(v.name, [...(runs.get(v.name) ?? []), outcome.result]);
          // The median of the runs that worked; a failure stands only when none did.
          const done = runs.get(v.name);
          results[workload][v.name] = done ? { ok: true, result: medianRun(done) } : outcome;
          break;
        }
        case "saturation":
          results.saturation[v.name] = await attempt(what, () => saturationWorkload(v, opts, ROOT, log));
          break;
        case "idle":
          results.idle[v.name] = await attempt(what, () => idleWorkload(v, opts, ROOT, idle.clients));
          break;
        default: {
          const unknown: never = workload;
          throw new Error(`unknown workload ${String(unknown)}`);
        }
      }
    }
  }
  const text = table(workload, titles[workload], results[workload], variants);
  tables.push(text);
  console.log(`\n${text}`);
}

if (opts.cpuProf) {
  // A separate run: profiling slows the server, so its figures must not be the reported ones.
  const dir = join(ROOT, "bench/results/tmp");
  mkdirSync(dir, { recursive: true });
  const profiled = opts.workloads.filter((w): w is "rooms" | "lobby" => w === "rooms" || w === "lobby");
  for (const workload of profiled.length > 0 ? profiled : (["rooms"] as const)) {
    for (const v of variants.filter((x) => x.kind === "ours")) {
      const before = new Set(readdirSync(dir));
      log(`cpu profile of ${v.name} under the ${workload} workload`);
      const args = ["--cpu-prof", "--cpu-prof-dir", dir];
      await attempt(`profile / ${workload} / ${v.name}`, () => (workload === "rooms" ? roomsWorkload(v, opts, ROOT, args) : lobbyWorkload(v, opts, ROOT, args)));
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the event loop; tsx adds a loader worker.
      const fresh = readdirSync(dir).filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f) && !before.has(f));
      const newest = fresh.sort((a, b) => statSync(join(dir, b)).mtimeMs - statSync(join(dir, a)).mtimeMs)[0];
      if (!newest) {
        log(`no profile written for ${v.name}`);
        continue;
      }
      const key = workload === "rooms" ? v.name : `${v.name}/${workload}`;
      profiles[key] = topFunctions(join(dir, newest), 20);
      const text = `cpu profile of ${v.label} (${workload} workload; self time, % of busy samples; ${join("bench/results/tmp", newest)}):\n${formatTop(profiles[key]!)}`;
      tables.push(text);
      console.log(`\n${text}`);
    }
  }
}

const pairs = ratioPairs(variants);
const out = {
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  machine,
  options: opts,
  oursSource: { ref: source.ref, commit: source.commit, dirty: source.dirty },
  servers: variants.map(({ name, kind, label, args, env, cluster }) => ({ name, kind, label, args, env, cluster })),
  notes,
  results,
  ratios: Object.fromEntries(opts.workloads.map((w) => [w, ratios(w, results[w], pairs)])),
  profiles,
  tables,
};
const outDir = resolve(ROOT, opts.out);
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
// The chart is a view of the file just written (`npm run bench:show -- FILE` redraws it); a bug in it must not cost the run.
const chart = chartPathFor(file);
let charted = false;
try {
  charted = writeChart(out, chart);
} catch (err) {
  log(`chart not written: ${err instanceof Error ? err.message : String(err)}`);
}
for (const n of notes.slice(notesShown)) console.log(`note: ${n}`);
console.log(`\nresults: ${file}`);
if (charted) console.log(`chart: ${chart}`);
source.dispose();
const failed = opts.workloads.some((w) => Object.values(results[w]).some((o) => !o.ok));
process.exit(failed ? 1 : 0);
