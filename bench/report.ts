/**
 * Turns results into tables: one per workload, a column per server, then the
 * ratios ours / raw ws and ours / Socket.IO for every "ours" variant. A figure that
 * measures the load generator rather than the server is starred, never shown bare.
 */
import type { ServerVariant, WorkloadName } from "./config.js";
import type { IdleResult } from "./workloads/idle.js";
import { NOISY_SHARE } from "./workloads/measure.js";
import type { FixedLoadResult } from "./workloads/load.js";
import type { SaturationResult } from "./workloads/saturation.js";

export type Outcome<T> = { ok: true; result: T } | { ok: false; error: string };

export interface WorkloadResults {
  rooms: Record<string, Outcome<FixedLoadResult>>;
  saturation: Record<string, Outcome<SaturationResult>>;
  lobby: Record<string, Outcome<FixedLoadResult>>;
  idle: Record<string, Outcome<IdleResult>>;
}

type ResultOf<W extends WorkloadName> = WorkloadResults[W][string] extends Outcome<infer T> ? T : never;

interface Row<T> {
  label: string;
  value(r: T): number | string | null;
  digits?: number;
  /** Include this row in the ratio columns. */
  ratio?: boolean;
  /** Marks for a figure that must not be read bare, each explained below the table. */
  flags?: Array<Flag<T>>;
  /** Left out when no server has a value for it. */
  optional?: boolean;
}

interface Flag<T> {
  when(r: T): boolean;
  mark: string;
  note: string;
}

const STAR_NOTE = "* the load generator was saturated (main thread ≥90%, or event-loop p99 ≥50 ms on an otherwise quiet machine): the figure measures the client, not the server";

const loadgenBound: Flag<FixedLoadResult> = { when: (r) => r.bound === "loadgen" || r.bound === "both", mark: "*", note: STAR_NOTE };
const noisy: Flag<FixedLoadResult> = {
  when: (r) => r.noisy,
  mark: "†",
  note: `† other processes used ≥${NOISY_SHARE * 100}% of a core during the window: latency and deliveries/s are noisy; deliveries per server CPU-s much less so`,
};

/** "12.3 + 11.9" for a cluster's nodes; nothing for a single process. */
function nodeParts(r: FixedLoadResult): string | null {
  const nodes = (r.serverParts ?? []).filter((p) => p.role.startsWith("node"));
  return nodes.length === 0 ? null : nodes.map((p) => p.cpuPct.toFixed(1)).join(" + ");
}

const boundLabel = (b: string): string => (b === "none" ? "neither" : b === "loadgen" ? "load generator" : b);

const loadRows: Array<Row<FixedLoadResult>> = [
  { label: "connections", value: (r) => r.connected },
  { label: "offered msgs/s", value: (r) => r.offeredMsgsPerSec, digits: 0 },
  { label: "deliveries/s", value: (r) => r.deliveriesPerSec, digits: 0, ratio: true, flags: [loadgenBound, noisy] },
  { label: "deliveries / server CPU-s", value: (r) => r.deliveriesPerServerCpuSec, digits: 0, ratio: true },
  { label: "server CPU % (all threads)", value: (r) => r.serverCpuPct, digits: 1, ratio: true },
  { label: "server main thread %", value: (r) => r.serverMainPct, digits: 1 },
  // A cluster's server CPU is the sum of these; results from before the cluster rows have no parts.
  { label: "of which nodes CPU %", value: (r) => nodeParts(r) },
  { label: "of which redis-server CPU %", value: (r) => r.serverParts?.find((p) => p.role === "redis-server")?.cpuPct ?? null, digits: 1 },
  { label: "log entries appended/s", value: (r) => r.logEntriesPerSec ?? null, digits: 0 },
  { label: "loadgen CPU %", value: (r) => r.loadgenCpuPct, digits: 1 },
  { label: "loadgen event-loop p99 ms", value: (r) => r.loadgenLoopDelayP99Ms, digits: 1 },
  { label: "other load on machine %", value: (r) => r.otherCpuPct, digits: 1, flags: [noisy] },
  { label: "windows measured (noise)", value: (r) => r.attempts ?? 1 },
  // --repeat: the spread of the headline over the runs (the table shows the median run).
  { label: "per CPU-s over runs (min–max)", value: (r) => (r.repeats ? `${Math.round(Math.min(...r.repeats)).toLocaleString("en-US")}–${Math.round(Math.max(...r.repeats)).toLocaleString("en-US")} (${r.repeats.length})` : null), optional: true },
  { label: "latency p50 ms", value: (r) => r.latency.p50, digits: 2, ratio: true, flags: [loadgenBound, noisy] },
  { label: "latency p99 ms", value: (r) => r.latency.p99, digits: 2, ratio: true, flags: [loadgenBound, noisy] },
  { label: "latency p99.9 ms", value: (r) => r.latency.p999, digits: 2, ratio: true, flags: [loadgenBound, noisy] },
  { label: "latency max ms", value: (r) => r.latency.max, digits: 1 },
  { label: "messages lost", value: (r) => r.lost },
  { label: "errors", value: (r) => Object.entries(r.errors).map(([k, v]) => `${k}×${v}`).join(" ") || "0" },
  { label: "server log warn/error lines", value: (r) => r.serverLogProblems?.count ?? null },
  { label: "server RSS MB (end)", value: (r) => r.serverRssMB, ratio: true },
  { label: "CPU-bound side", value: (r) => boundLabel(r.bound) },
];

function bestStep(r: SaturationResult): SaturationResult["steps"][number] | undefined {
  return r.steps.filter((s) => s.passed).at(-1);
}

const saturationRows: Array<Row<SaturationResult>> = [
  {
    label: "max sustained deliveries/s",
    value: (r) => r.bestDeliveriesPerSec,
    digits: 0,
    ratio: true,
    flags: [
      { when: (r) => r.limitedBy === "loadgen" || r.limitedBy === "both", mark: "*", note: STAR_NOTE },
      {
        when: (r) => r.limitedBy === "noise",
        mark: "†",
        note: "† the climb ended on a busy machine (other processes took the CPUs, on the retry too): the ceiling may be higher",
      },
    ],
  },

  { label: "p99 ms at that step", value: (r) => r.bestP99Ms, digits: 2 },
  { label: "server main % at that step", value: (r) => bestStep(r)?.result.serverMainPct ?? null, digits: 1 },
  { label: "loadgen main % at that step", value: (r) => bestStep(r)?.result.loadgenMainMaxPct ?? null, digits: 1 },
  { label: "steps passed / run", value: (r) => `${r.steps.filter((s) => s.passed).length} / ${r.steps.length}` },
  { label: "climb stopped by", value: (r) => (r.limitedBy === "loadgen" ? "load generator" : r.limitedBy === "noise" ? "other load on machine" : r.limitedBy) },
  { label: "last step offered msgs/s", value: (r) => r.steps.at(-1)?.offeredMsgsPerSec ?? null, digits: 0 },
  { label: "last step deliveries/s", value: (r) => r.steps.at(-1)?.result.deliveriesPerSec ?? null, digits: 0 },
  { label: "last step server main %", value: (r) => r.steps.at(-1)?.result.serverMainPct ?? null, digits: 1 },
  { label: "last step loadgen main %", value: (r) => r.steps.at(-1)?.result.loadgenMainMaxPct ?? null, digits: 1 },
];

const idleRows: Array<Row<IdleResult>> = [
  { label: "idle connections", value: (r) => r.connected },
  { label: "failed connects", value: (r) => r.failed },
  { label: "server KiB / connection", value: (r) => r.bytesPerConnection / 1024, digits: 2, ratio: true },
  { label: "server RSS before MB", value: (r) => r.rssBeforeMB },
  { label: "server RSS after MB", value: (r) => r.rssAfterMB },
  { label: "connects/s", value: (r) => r.connectsPerSec, digits: 0, ratio: true },
  { label: "server CPU µs / connect", value: (r) => r.serverCpuUsPerConnect, digits: 0, ratio: true },
];

const ROWS: { [W in WorkloadName]: Array<Row<ResultOf<W>>> } = {
  rooms: loadRows,
  saturation: saturationRows,
  lobby: loadRows,
  idle: idleRows,
};

function fmt(v: number | string | null, digits = 0): string {
  if (v === null) return "—";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return "n/a";
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export interface RatioPair {
  ours: string;
  other: string;
  label: string;
}

/** ours-kind variants against each baseline present, then each cluster variant against its single-server counterpart. */
export function ratioPairs(variants: readonly ServerVariant[]): RatioPair[] {
  const pairs: RatioPair[] = [];
  const short: Record<string, string> = { raw: "raw", "raw-durable": "rawD", socketio: "SIO" };
  for (const o of variants.filter((v) => v.kind === "ours")) {
    for (const b of variants.filter((v) => v.kind === "raw" || v.kind === "socketio")) {
      pairs.push({ ours: o.name, other: b.name, label: `${o.name}/${short[b.name] ?? b.name}` });
    }
  }
  for (const c of variants.filter((v) => v.cluster)) {
    if (variants.some((v) => v.name === c.cluster!.single)) pairs.push({ ours: c.name, other: c.cluster!.single, label: `${c.name}/${c.cluster!.single}` });
  }
  return pairs;
}

/** ours / other per ratio row, for the JSON file. */
export function ratios<W extends WorkloadName>(workload: W, results: WorkloadResults[W], pairs: RatioPair[]): Record<string, Record<string, number | null>> {
  const rows = ROWS[workload] as Array<Row<ResultOf<W>>>;
  const out: Record<string, Record<string, number | null>> = {};
  for (const p of pairs) {
    const a = results[p.ours];
    const b = results[p.other];
    const entry: Record<string, number | null> = {};
    for (const row of rows.filter((r) => r.ratio)) {
      const x = a?.ok ? row.value(a.result as ResultOf<W>) : null;
      const y = b?.ok ? row.value(b.result as ResultOf<W>) : null;
      entry[row.label] = typeof x === "number" && typeof y === "number" && y !== 0 ? Math.round((x / y) * 1000) / 1000 : null;
    }
    out[p.label] = entry;
  }
  return out;
}

export function table<W extends WorkloadName>(workload: W, title: string, results: WorkloadResults[W], variants: readonly ServerVariant[]): string {
  const rows = ROWS[workload] as Array<Row<ResultOf<W>>>;
  const pairs = ratioPairs(variants);
  const rat = ratios(workload, results, pairs);
  const header = ["", ...variants.map((v) => v.label), ...pairs.map((p) => p.label)];
  const notes = new Set<string>();
  const shown = rows.filter((row) => !row.optional || variants.some((v) => { const o = results[v.name]; return o?.ok === true && row.value(o.result as ResultOf<W>) !== null; }));
  const body = shown.map((row) => {
    const cells = variants.map((v) => {
      const o = results[v.name];
      if (!o) return "—";
      if (!o.ok) return "failed";
      const r = o.result as ResultOf<W>;
      const raised = (row.flags ?? []).filter((f) => f.when(r));
      for (const f of raised) notes.add(f.note);
      return fmt(row.value(r), row.digits) + raised.map((f) => f.mark).join("");
    });
    const ratioCells = pairs.map((p) => (row.ratio ? fmt(rat[p.label]?.[row.label] ?? null, 2) : ""));
    return [row.label, ...cells, ...ratioCells];
  });
  for (const v of variants) {
    const o = results[v.name];
    if (o && !o.ok) notes.add(`${v.label} failed: ${o.error.split("\n")[0]}`);
  }
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  const out = [title, line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
  if (workload === "saturation") out.push(...saturationSteps(results as WorkloadResults["saturation"], variants));
  return [...out, ...[...notes].map((n) => `  ${n}`)].join("\n");
}

function saturationSteps(results: WorkloadResults["saturation"], variants: readonly ServerVariant[]): string[] {
  const lines: string[] = ["  steps (offered msgs/s → deliveries/s, p99 ms, server main %, loadgen main %, other load %):"];
  for (const v of variants) {
    const o = results[v.name];
    if (!o?.ok) continue;
    const steps = o.result.steps.map((s) => {
      const r = s.result;
      const verdict = s.passed ? "ok" : s.retried ? `failed, retried: ${s.why}` : `STOP: ${s.why}`;
      return `${fmt(s.offeredMsgsPerSec)}→${fmt(r.deliveriesPerSec)} (${fmt(r.latency.p99, 1)}, ${fmt(r.serverMainPct)}%, ${fmt(r.loadgenMainMaxPct)}%, ${fmt(r.otherCpuPct)}%) ${verdict}`;
    });
    lines.push(`  ${v.label}:`, ...steps.map((s) => `    ${s}`));
  }
  return lines;
}
