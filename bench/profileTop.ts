/**
 * Summarises a V8 .cpuprofile (node --cpu-prof) as the functions with the most self
 * time, as shares of the busy (non-idle) samples. Usable on its own: `npm run bench:profile -- FILE.cpuprofile [N]`.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileEntry {
  selfPct: number;
  fn: string;
  where: string;
}

export function topFunctions(file: string, n = 15): ProfileEntry[] {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const self = new Map<string, { fn: string; where: string; hits: number }>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    // Idle time says how loaded the server was, not where its work went.
    if (hits === 0 || functionName === "(idle)") continue;
    // node_modules paths are long; the package and file name are what a reader needs.
    const short = url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(src|bench)\//, "$1/");
    const where = url === "" ? "" : `${short}:${lineNumber + 1}`;
    const fn = functionName || "(anonymous)";
    const key = `${fn}@${where}`;
    const entry = self.get(key) ?? { fn, where, hits: 0 };
    entry.hits += hits;
    self.set(key, entry);
    total += hits;
  }
  return [...self.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, n)
    .map((e) => ({ selfPct: Math.round((e.hits / Math.max(1, total)) * 1000) / 10, fn: e.fn, where: e.where }));
}

export function formatTop(entries: ProfileEntry[]): string {
  return entries.map((e) => `${`${e.selfPct.toFixed(1)}%`.padStart(6)}  ${e.fn}  ${e.where}`).join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    console.error("usage: tsx bench/profileTop.ts FILE.cpuprofile [N]");
    process.exit(2);
  }
  console.log(formatTop(topFunctions(file, n === undefined ? 20 : Number(n))));
}
