/**
 * Prints the tables of a results file again, with the current report code, and
 * (re)writes its chart beside it (same name, .svg), with the current chart code:
 * `npm run bench:show -- bench/results/<time>.json [--svg OUT.svg | --no-svg]`.
 */
import { readFileSync } from "node:fs";
import { chartPathFor, writeChart, type ChartInput } from "./chart.js";
import { SERVER_VARIANTS, WORKLOADS, type ServerVariant, type WorkloadName } from "./config.js";
import { table, type WorkloadResults } from "./report.js";

interface ResultsFile {
  servers: Array<{ name: string }>;
  options: { workloads: WorkloadName[] };
  results: WorkloadResults;
  tables: string[];
}

const USAGE = "usage: npm run bench:show -- bench/results/<time>.json [--svg OUT.svg | --no-svg]";
/** The results file, and where its chart goes: beside it, elsewhere (--svg, e.g. /tmp, leaving the results folder untouched), or nowhere (--no-svg). */
function parseArgs(args: string[]): { file: string; svg: string | null } | null {
  let file: string | undefined;
  let svg: string | null | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--no-svg") svg = null;
    else if (a === "--svg") {
      svg = args[++i];
      if (!svg) return null;
    } else if (a.startsWith("--") || file) return null;
    else file = a;
  }
  return file ? { file, svg: svg === undefined ? chartPathFor(file) : svg } : null;
}

const parsed = parseArgs(process.argv.slice(2));
if (!parsed) {
  console.error(USAGE);
  process.exit(2);
}
const { file, svg } = parsed;
const data = JSON.parse(readFileSync(file, "utf8")) as ResultsFile & ChartInput;
const variants = data.servers
  .map((s) => SERVER_VARIANTS.find((v) => v.name === s.name))
  .filter((v): v is ServerVariant => v !== undefined);
for (const w of data.options.workloads.filter((x) => WORKLOADS.includes(x))) {
  // The title is the first line of the table printed at run time.
  const title = data.tables.find((t) => t.startsWith(w))?.split("\n")[0] ?? w;
  console.log(`${table(w, title, data.results[w], variants)}\n`);
}
if (svg !== null) {
  console.log(writeChart(data, svg) ? `chart: ${svg}` : "chart: nothing to draw (no rooms or saturation results)");
}
