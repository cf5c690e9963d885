/**
 * Draws a results file as one SVG beside it, for looking rather than reading:
 * the saturation climb (p99 against deliveries/s, a line per server) and the rooms
 * workload (latency percentiles, and deliveries per server CPU-second). Panels
 * without data are left out. Hand-written SVG: no dependency, no fonts to fetch,
 * so it renders the same in a browser, a PR diff viewer or an image converter.
 */
import { writeFileSync } from "node:fs";

// ---------------------------------------------------------------------------
// Input: only the fields drawn, so a results file (or a small hand-made object in
// a test) fits without the full result types. Everything is optional because old
// results files and partial runs lack pieces.

interface Latency {
  p50: number;
  p99: number;
  p999: number;
}

/** A measured window, as far as the chart uses it. */
interface WindowLike {
  deliveriesPerSec: number;
  deliveriesPerServerCpuSec?: number;
  latency: Latency;
  noisy?: boolean;
  bound?: string;
}

interface StepLike {
  offeredMsgsPerSec: number;
  passed: boolean;
  retried?: boolean;
  why?: string;
  result: WindowLike;
}

type OutcomeLike<T> = { ok: true; result: T } | { ok: false; error: string } | null | undefined;

export interface ChartInput {
  startedAt?: string;
  machine?: { cpuModel?: string; cores?: number; node?: string; kernel?: string };
  oursSource?: { ref?: string; commit?: string; dirty?: boolean };
  options?: { satP99Ms?: number };
  servers?: Array<{ name: string; label?: string }>;
  results?: {
    rooms?: Record<string, OutcomeLike<WindowLike>>;
    saturation?: Record<string, OutcomeLike<{ steps: StepLike[]; bestDeliveriesPerSec?: number | null; bestP99Ms?: number | null; limitedBy?: string }>>;
  };
  /** The tables printed at run time; their first lines describe each workload's parameters. */
  tables?: string[];
}

// ---------------------------------------------------------------------------
// Layout constants. 900 px wide is what a README or PR page shows without scaling.

const WIDTH = 900;
const LEFT = 78; // room for y tick labels such as "1,000 ms"
const RIGHT = 24;
const PLOT_W = WIDTH - LEFT - RIGHT;
const SMALL = 11;
/** Characters of 11 px sans-serif text that fit across the chart (≈5.5 px each). */
const WRAP_CHARS = 150;
const INK = "#222";
const GRID = "#ddd";
const MUTED = "#666";

/**
 * One colour per server name, the same in every panel and every results file, so
 * charts of different runs can be compared at a glance. Our variants are blues and
 * greens, the baselines grey and orange. Unknown names take the spare colours in order.
 */
const SERVER_COLOURS: Record<string, string> = {
  ours: "#1f5fbf",
  "ours-disk": "#7b3fb5",
  "ours-cluster": "#2a9d3a",
  "ours-cluster-disk": "#8c5a2b",
  raw: "#6e6e6e",
  "raw-durable": "#a8a8a8",
  socketio: "#e07b00",
};
const SPARE_COLOURS = ["#c0392b", "#d6589f", "#9a9a1c", "#138d90"];

interface Server {
  name: string;
  label: string;
  colour: string;
}

// ---------------------------------------------------------------------------
// Small helpers.

/** Text and attribute values must not break the XML. */
function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

function num(v: number, digits = 0): string {
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Short enough for a label on a bar: 0.85, 11.5, 239. */
function ms(v: number): string {
  return Math.abs(v) < 10 ? num(v, 2) : Math.abs(v) < 100 ? num(v, 1) : num(v);
}

/** Axis labels: 50k, 1.5M. */
function compact(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(v);
}

/** Coordinates rounded to 0.1 px: smaller files, no visible difference. */
function r1(v: number): string {
  return String(Math.round(v * 10) / 10);
}

function text(x: number, y: number, s: string, attrs = ""): string {
  return `<text x="${r1(x)}" y="${r1(y)}"${attrs ? ` ${attrs}` : ""}>${esc(s)}</text>`;
}

/** Greedy word wrap: the workload titles are one long line in the results file. */
function wrap(s: string, max = WRAP_CHARS): string[] {
  const lines: string[] = [];
  let cur = "";
  for (const word of s.split(/\s+/).filter(Boolean)) {
    if (cur && cur.length + 1 + word.length > max) {
      lines.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** A 1-2-5 step giving about `count` intervals over [0, max], and the rounded-up top. */
function niceScale(max: number, count = 5): { step: number; top: number } {
  const raw = max > 0 ? max / count : 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  return { step, top: Math.max(step, Math.ceil(max / step) * step) };
}

/** A panel drawn in its own coordinates, stacked by `renderChart`. */
interface Panel {
  id: string;
  height: number;
  body: string;
}

/** Heading and wrapped description; returns the markup and the height used. */
function heading(title: string, subtitle: string | undefined): { body: string; height: number } {
  const parts = [text(LEFT - 60, 20, title, `font-size="15" font-weight="bold" fill="${INK}"`)];
  let y = 20;
  for (const line of subtitle ? wrap(subtitle) : []) {
    y += 14;
    parts.push(text(LEFT - 60, y, line, `font-size="${SMALL}" fill="${MUTED}"`));
  }
  return { body: parts.join("\n"), height: y + 12 };
}

/** The workload's parameters, as the run printed them above its table (without the name, which the heading gives). */
function workloadDescription(data: ChartInput, workload: string): string | undefined {
  const first = data.tables?.find((t) => t.startsWith(workload))?.split("\n")[0];
  return first?.replace(new RegExp(`^${workload}\\s*—\\s*`), "");
}

/**
 * Servers in run order (the file's `servers`), then any other name the results
 * mention, so a hand-edited or partial file still gets every line.
 */
function serverList(data: ChartInput): Server[] {
  const names: string[] = [];
  const labels = new Map<string, string>();
  for (const s of data.servers ?? []) {
    names.push(s.name);
    if (s.label) labels.set(s.name, s.label);
  }
  for (const w of [data.results?.saturation, data.results?.rooms]) {
    for (const n of Object.keys(w ?? {})) if (!names.includes(n)) names.push(n);
  }
  let spare = 0;
  return names.map((name) => ({
    name,
    label: labels.get(name) ?? name,
    colour: SERVER_COLOURS[name] ?? SPARE_COLOURS[spare++ % SPARE_COLOURS.length]!,
  }));
}

/** The servers with a successful result in this workload, and notes for those that failed. */
function measured<T>(servers: Server[], results: Record<string, OutcomeLike<T>> | undefined): { rows: Array<{ server: Server; result: T }>; failed: string[] } {
  const rows: Array<{ server: Server; result: T }> = [];
  const failed: string[] = [];
  for (const server of servers) {
    const o = results?.[server.name];
    if (!o) continue;
    if (o.ok) rows.push({ server, result: o.result });
    else failed.push(`${server.label} failed: ${o.error.split("\n")[0] ?? ""}`);
  }
  return { rows, failed };
}

/** Horizontal legend entries that wrap onto further rows. */
function legend(items: Array<{ swatch: string; label: string }>, y0: number): { body: string; height: number } {
  const parts: string[] = [];
  let x = LEFT;
  let y = y0;
  for (const item of items) {
    const w = 26 + item.label.length * 6.2 + 20; // ≈6.2 px per 12 px character
    if (x + w > WIDTH - RIGHT && x > LEFT) {
      x = LEFT;
      y += 18;
    }
    parts.push(`<g transform="translate(${r1(x)},${r1(y)})">${item.swatch}${text(26, 4, item.label, `font-size="12" fill="${INK}"`)}</g>`);
    x += w;
  }
  return { body: parts.join("\n"), height: y - y0 + 18 };
}

// ---------------------------------------------------------------------------
// Markers of the saturation panel. A failing step must stand out from the
// passing ones, and a retried (noisy, superseded) attempt must not look like
// part of the climb.

function dot(x: number, y: number, colour: string): string {
  return `<circle cx="${r1(x)}" cy="${r1(y)}" r="4" fill="${colour}" stroke="#fff" stroke-width="1"/>`;
}

function cross(x: number, y: number, colour: string): string {
  const d = 6;
  const path = `M${r1(x - d)} ${r1(y - d)}L${r1(x + d)} ${r1(y + d)}M${r1(x - d)} ${r1(y + d)}L${r1(x + d)} ${r1(y - d)}`;
  // A white halo keeps the cross readable where it sits on another server's line.
  return `<path d="${path}" stroke="#fff" stroke-width="5" stroke-linecap="round"/><path d="${path}" stroke="${colour}" stroke-width="2.5" stroke-linecap="round"/>`;
}

function ring(x: number, y: number, colour: string): string {
  return `<circle cx="${r1(x)}" cy="${r1(y)}" r="5" fill="#fff" stroke="${colour}" stroke-width="1.8" stroke-dasharray="2.5 1.5"/>`;
}

/** Hover text in a browser: the step as the table prints it. */
function stepTitle(server: Server, s: StepLike, i: number): string {
  const verdict = s.passed ? "passed" : s.retried ? `failed on a busy machine, retried: ${s.why ?? ""}` : `climb stopped: ${s.why ?? ""}`;
  const busy = s.result.noisy ? " (other processes were busy)" : "";
  return `<title>${esc(`${server.label}, step ${i + 1}: ${num(s.offeredMsgsPerSec)} msgs/s offered → ${num(s.result.deliveriesPerSec)} deliveries/s, p99 ${ms(s.result.latency.p99)} ms${busy}; ${verdict}`)}</title>`;
}

// ---------------------------------------------------------------------------
// Panel 1: the saturation climb.

const SAT_PLOT_H = 340;
/** The log scale needs a positive floor; a p99 below 10 µs is not a real reading here. */
const MIN_MS = 0.01;

interface LogScale {
  lo: number; // decades, e.g. 0 for 1 ms
  hi: number;
  y(v: number): number;
}

function logScale(values: number[], top: number, height: number): LogScale {
  const logs = values.map((v) => Math.log10(Math.max(MIN_MS, v)));
  const lo = Math.floor(Math.min(...logs));
  const hi = Math.max(lo + 1, Math.ceil(Math.max(...logs)));
  return { lo, hi, y: (v) => top + height - ((Math.log10(Math.max(MIN_MS, v)) - lo) / (hi - lo)) * height };
}

/** Decade gridlines labelled; 2× and 5× lines too, labelled only when there are few decades. */
function logAxis(scale: LogScale, top: number): string {
  const parts: string[] = [];
  const decades = scale.hi - scale.lo;
  for (let d = scale.lo; d <= scale.hi; d++) {
    for (const m of d < scale.hi ? [1, 2, 5] : [1]) {
      const v = m * 10 ** d;
      const y = scale.y(v);
      const major = m === 1;
      parts.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${r1(y)}" y2="${r1(y)}" stroke="${GRID}"${major ? "" : ` stroke-dasharray="3 3"`}/>`);
      if (major || decades <= 2) parts.push(text(LEFT - 6, y + 4, `${num(v, d < 0 ? -d : 0)} ms`, `font-size="${SMALL}" fill="${major ? INK : MUTED}" text-anchor="end"`));
    }
  }
  parts.push(text(14, top + SAT_PLOT_H / 2, "p99 latency, ms (log scale)", `font-size="12" fill="${INK}" text-anchor="middle" transform="rotate(-90 14 ${r1(top + SAT_PLOT_H / 2)})"`));
  return parts.join("\n");
}

function linearXAxis(top: number, xs: { step: number; top: number }, x: (v: number) => number, title: string): string {
  const { step, top: end } = xs;
  const parts: string[] = [];
  for (let v = 0; v <= end + step / 2; v += step) {
    parts.push(`<line x1="${r1(x(v))}" x2="${r1(x(v))}" y1="${top}" y2="${top + SAT_PLOT_H}" stroke="${GRID}"/>`);
    parts.push(text(x(v), top + SAT_PLOT_H + 15, compact(v), `font-size="${SMALL}" fill="${INK}" text-anchor="middle"`));
  }
  parts.push(text(LEFT + PLOT_W / 2, top + SAT_PLOT_H + 32, title, `font-size="12" fill="${INK}" text-anchor="middle"`));
  return parts.join("\n");
}

/**
 * Where a server's climb ended: the highest passing step, and why the next one
 * failed (its first reason, as the table words it), since the line alone says neither.
 */
function climbSummary(r: { steps: StepLike[]; bestDeliveriesPerSec?: number | null; bestP99Ms?: number | null; limitedBy?: string }): string {
  const best = r.bestDeliveriesPerSec != null ? `highest passing ${num(r.bestDeliveriesPerSec)}/s (p99 ${ms(r.bestP99Ms ?? Number.NaN)} ms)` : "no step passed";
  const last = r.steps.at(-1);
  if (!last || last.passed) return `${best}; every step passed, so a floor`;
  const why = (last.why ?? "").split(";")[0]!.trim();
  const busy = r.limitedBy === "noise" ? " on a busy machine" : "";
  return `${best}; stopped${busy}${why ? `: ${why}` : ""}`;
}

function saturationPanel(data: ChartInput, servers: Server[]): Panel | null {
  const { rows, failed } = measured(servers, data.results?.saturation);
  const climbs = rows.filter((r) => r.result.steps.length > 0);
  if (climbs.length === 0) return null;
  const limit = data.options?.satP99Ms;
  const head = heading("Saturation climb: p99 latency against deliveries/s, step by step", workloadDescription(data, "saturation"));
  const top = head.height + 10;

  const all = climbs.flatMap((c) => c.result.steps);
  const xs = niceScale(Math.max(...all.map((s) => s.result.deliveriesPerSec)), 8);
  const x = (v: number): number => LEFT + (v / xs.top) * PLOT_W;
  const scale = logScale([...all.map((s) => s.result.latency.p99), ...(limit ? [limit] : [])], top, SAT_PLOT_H);

  const parts = [head.body, logAxis(scale, top), linearXAxis(top, xs, x, "deliveries/s delivered (the sender's own copy counts for ours and Socket.IO)")];
  parts.push(`<rect x="${LEFT}" y="${top}" width="${PLOT_W}" height="${SAT_PLOT_H}" fill="none" stroke="#999"/>`);
  if (limit) {
    const y = scale.y(limit);
    parts.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${r1(y)}" y2="${r1(y)}" stroke="#c0392b" stroke-width="1.2" stroke-dasharray="6 4"/>`);
    parts.push(text(LEFT + 6, y - 5, `p99 limit ${num(limit)} ms: a step above it fails`, `font-size="${SMALL}" fill="#c0392b"`));
  }
  for (const { server, result } of climbs) {
    // The line follows the climb as judged; an attempt retried after a busy spell was superseded, so it gets a marker but no vertex.
    const counted = result.steps.filter((s) => !s.retried);
    const pts = counted.map((s) => `${r1(x(s.result.deliveriesPerSec))},${r1(scale.y(s.result.latency.p99))}`).join(" ");
    parts.push(`<g data-server="${esc(server.name)}">`);
    parts.push(`<polyline data-server="${esc(server.name)}" points="${pts}" fill="none" stroke="${server.colour}" stroke-width="2" stroke-linejoin="round"/>`);
    result.steps.forEach((s, i) => {
      const px = x(s.result.deliveriesPerSec);
      const py = scale.y(s.result.latency.p99);
      const mark = s.passed ? dot(px, py, server.colour) : s.retried ? ring(px, py, server.colour) : cross(px, py, server.colour);
      parts.push(`<g class="${s.passed ? "pass" : s.retried ? "retried" : "fail"}">${stepTitle(server, s, i)}${mark}</g>`);
    });
    parts.push("</g>");
  }

  let y = top + SAT_PLOT_H + 50;
  const key = legend(
    [
      { swatch: dot(10, 0, INK), label: "step passed" },
      { swatch: cross(10, 0, INK), label: "step failed: the climb stopped there" },
      ...(all.some((s) => s.retried) ? [{ swatch: ring(10, 0, INK), label: "failed on a busy machine, run again" }] : []),
    ],
    y,
  );
  parts.push(key.body);
  y += key.height + 4;
  // One row per server: its colour, name and where its climb ended, which the line alone does not say.
  // The summaries form a column after the longest name (≈7 px per bold character), or go under the name when that would run off the edge.
  const summaryX = LEFT + 28 + Math.max(...climbs.map((c) => c.server.label.length)) * 7 + 12;
  const below = climbs.some((c) => summaryX + climbSummary(c.result).length * 6.2 > WIDTH - RIGHT);
  for (const { server, result } of climbs) {
    parts.push(`<line x1="${LEFT}" x2="${LEFT + 20}" y1="${y}" y2="${y}" stroke="${server.colour}" stroke-width="2.5"/>${dot(LEFT + 10, y, server.colour)}`);
    parts.push(text(LEFT + 28, y + 4, server.label, `font-size="12" font-weight="bold" fill="${INK}"`));
    if (below) y += 16;
    parts.push(text(below ? LEFT + 28 : summaryX, y + 4, climbSummary(result), `font-size="12" fill="${INK}"`));
    y += below ? 20 : 18;
  }
  for (const f of failed) {
    parts.push(text(LEFT, y + 4, f, `font-size="${SMALL}" fill="#c0392b"`));
    y += 16;
  }
  return { id: "saturation", height: y + 6, body: parts.join("\n") };
}

// ---------------------------------------------------------------------------
// Panel 2: rooms latency percentiles, grouped by percentile so servers sit side by side.

const BAR_PLOT_H = 240;
const PERCENTILES: Array<{ key: keyof Latency; label: string }> = [
  { key: "p50", label: "p50" },
  { key: "p99", label: "p99" },
  { key: "p999", label: "p99.9" },
];

/** The table's marks: a figure measured while the load generator or other processes were busy must not be read bare. */
function flagsOf(r: WindowLike): string {
  return (r.bound === "loadgen" || r.bound === "both" ? "*" : "") + (r.noisy ? "†" : "");
}

function flagNotes(rs: WindowLike[]): string[] {
  const notes: string[] = [];
  if (rs.some((r) => flagsOf(r).includes("*"))) notes.push("* the load generator was saturated: the figure describes the client, not the server");
  if (rs.some((r) => r.noisy)) notes.push("† other processes were busy during the window: latency is noisy");
  return notes;
}

function serverLegend(servers: Server[], y: number): { body: string; height: number } {
  return legend(servers.map((s) => ({ swatch: `<rect x="0" y="-6" width="20" height="12" fill="${s.colour}"/>`, label: s.label })), y);
}

function roomsLatencyPanel(data: ChartInput, servers: Server[]): Panel | null {
  const { rows, failed } = measured(servers, data.results?.rooms);
  if (rows.length === 0) return null;
  const head = heading("Rooms: latency percentiles, ms (lower is better)", workloadDescription(data, "rooms"));
  const top = head.height + 24; // room for the value labels of the tallest bar
  const { step, top: maxY } = niceScale(Math.max(...rows.flatMap((r) => PERCENTILES.map((p) => r.result.latency[p.key]))) * 1.05, 5);
  const y = (v: number): number => top + BAR_PLOT_H - (v / maxY) * BAR_PLOT_H;

  const parts = [head.body];
  for (let v = 0; v <= maxY + step / 2; v += step) {
    parts.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${r1(y(v))}" y2="${r1(y(v))}" stroke="${GRID}"/>`);
    parts.push(text(LEFT - 6, y(v) + 4, `${num(v, step < 1 ? 1 : 0)} ms`, `font-size="${SMALL}" fill="${INK}" text-anchor="end"`));
  }
  const groupW = PLOT_W / PERCENTILES.length;
  const barW = Math.min(56, (groupW - 40) / rows.length);
  // Labels of narrow bars are turned upright so neighbours do not overlap.
  const upright = barW < 34;
  PERCENTILES.forEach((p, g) => {
    const x0 = LEFT + g * groupW + (groupW - barW * rows.length) / 2;
    rows.forEach(({ server, result }, i) => {
      const v = result.latency[p.key];
      const bx = x0 + i * barW;
      const label = ms(v) + flagsOf(result);
      parts.push(`<rect x="${r1(bx + 2)}" y="${r1(y(v))}" width="${r1(barW - 4)}" height="${r1(top + BAR_PLOT_H - y(v))}" fill="${server.colour}"><title>${esc(`${server.label} ${p.label}: ${num(v, 2)} ms`)}</title></rect>`);
      const cx = bx + barW / 2;
      parts.push(
        upright
          ? text(cx + 4, y(v) - 4, label, `font-size="${SMALL}" fill="${INK}" transform="rotate(-90 ${r1(cx + 4)} ${r1(y(v) - 4)})"`)
          : text(cx, y(v) - 4, label, `font-size="${SMALL}" fill="${INK}" text-anchor="middle"`),
      );
    });
    parts.push(text(LEFT + g * groupW + groupW / 2, top + BAR_PLOT_H + 18, p.label, `font-size="13" font-weight="bold" fill="${INK}" text-anchor="middle"`));
  });
  parts.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${top + BAR_PLOT_H}" y2="${top + BAR_PLOT_H}" stroke="#999"/>`);

  let yy = top + BAR_PLOT_H + 42;
  const key = serverLegend(rows.map((r) => r.server), yy);
  parts.push(key.body);
  yy += key.height;
  for (const note of [...flagNotes(rows.map((r) => r.result)), ...failed]) {
    parts.push(text(LEFT, yy + 4, note, `font-size="${SMALL}" fill="${MUTED}"`));
    yy += 15;
  }
  return { id: "rooms-latency", height: yy + 6, body: parts.join("\n") };
}

// ---------------------------------------------------------------------------
// Panel 3: deliveries per server CPU-second, the run's headline, with the ratio to the raw relay.

const CPU_BAR_H = 20;
const CPU_LABEL_W = 250;

function cpuPanel(data: ChartInput, servers: Server[]): Panel | null {
  const rows = measured(servers, data.results?.rooms).rows.filter((r) => typeof r.result.deliveriesPerServerCpuSec === "number");
  if (rows.length === 0) return null;
  const head = heading("Rooms: deliveries per server CPU-second (higher is better)", "deliveries divided by the server's CPU time (all threads; a cluster: every node and redis-server), at the fixed load above");
  const raw = rows.find((r) => r.server.name === "raw")?.result.deliveriesPerServerCpuSec;
  const max = Math.max(...rows.map((r) => r.result.deliveriesPerServerCpuSec!));
  const x0 = LEFT - 60 + CPU_LABEL_W;
  const barMax = WIDTH - RIGHT - x0 - 170; // leaves room for "148,226 · 1.10× raw"
  const parts = [head.body];
  let y = head.height + 10;
  for (const { server, result } of rows) {
    const v = result.deliveriesPerServerCpuSec!;
    const w = (v / max) * barMax;
    const ratio = raw && server.name !== "raw" ? ` · ${num(v / raw, 2)}× raw` : "";
    parts.push(text(x0 - 8, y + CPU_BAR_H / 2 + 4, server.label, `font-size="12" fill="${INK}" text-anchor="end"`));
    parts.push(`<rect x="${x0}" y="${y}" width="${r1(w)}" height="${CPU_BAR_H}" fill="${server.colour}"/>`);
    parts.push(text(x0 + w + 6, y + CPU_BAR_H / 2 + 4, `${num(v)}${ratio}`, `font-size="12" fill="${INK}"`));
    y += CPU_BAR_H + 6;
  }
  return { id: "rooms-cpu", height: y + 10, body: parts.join("\n") };
}

// ---------------------------------------------------------------------------
// The whole chart.

/** "2026-11-25 13:02 UTC" from the ISO start time. */
function when(iso: string | undefined): string | undefined {
  if (!iso || Number.isNaN(Date.parse(iso))) return undefined;
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The run's title and the machine, as the run prints them at the top. */
function titleBlock(data: ChartInput): { body: string; height: number } {
  const date = when(data.startedAt);
  const m = data.machine;
  const machine = m ? [m.cpuModel, m.cores !== undefined ? `${m.cores} cores` : undefined, m.node ? `Node ${m.node}` : undefined, m.kernel ? `Linux ${m.kernel}` : undefined].filter(Boolean).join(", ") : "";
  const src = data.oursSource;
  const ours = src?.commit ? `our server: ${src.ref ?? ""} (commit ${src.commit.slice(0, 10)}${src.dirty ? ", with uncommitted changes" : ""})` : "";
  const parts = [text(18, 28, `chat-server bench${date ? ` — ${date}` : ""}`, `font-size="18" font-weight="bold" fill="${INK}"`)];
  let y = 28;
  for (const line of wrap([machine, ours].filter(Boolean).join(" · "))) {
    y += 16;
    parts.push(text(18, y, line, `font-size="12" fill="${MUTED}"`));
  }
  return { body: parts.join("\n"), height: y + 14 };
}

/** The SVG for a results file, or null when it holds nothing this chart draws (no rooms, no saturation). */
export function renderChart(data: ChartInput): string | null {
  const servers = serverList(data);
  const panels = [saturationPanel(data, servers), roomsLatencyPanel(data, servers), cpuPanel(data, servers)].filter((p): p is Panel => p !== null);
  if (panels.length === 0) return null;
  const title = titleBlock(data);
  const parts = [title.body];
  let y = title.height;
  for (const p of panels) {
    // A rule between panels: they share a width, not axes.
    parts.push(`<line x1="18" x2="${WIDTH - 18}" y1="${y + 6}" y2="${y + 6}" stroke="#bbb"/>`);
    parts.push(`<g id="${p.id}" transform="translate(0,${y + 12})">\n${p.body}\n</g>`);
    y += p.height + 12;
  }
  const height = Math.ceil(y + 8);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    // An opaque background: dark-mode viewers would otherwise draw dark text on dark.
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    `</svg>`,
    "",
  ].join("\n");
}

/** `results.json` → `results.svg`. */
export function chartPathFor(jsonFile: string): string {
  return jsonFile.replace(/\.json$/i, "") + ".svg";
}

/** Writes the chart for `data` to `file`; returns false (writing nothing) when there is nothing to draw. */
export function writeChart(data: ChartInput, file: string): boolean {
  const svg = renderChart(data);
  if (svg === null) return false;
  writeFileSync(file, svg);
  return true;
}
