/**
 * Prints the tables of a results file again, with the current report code:
 * `npm run bench:show -- bench/results/<time>.json`.
 */
import { readFileSync } from "node:fs";
import { SERVER_VARIANTS, WORKLOADS, type ServerVariant, type WorkloadName } from "./config.js";
import { table, type WorkloadResults } from "./report.js";

interface ResultsFile {
  servers: Array<{ name: string }>;
  options: { workloads: WorkloadName[] };
  results: WorkloadResults;
  tables: string[];
}

const file = process.argv[2];
if (!file) {
  console.error("usage: npm run bench:show -- bench/results/<time>.json");
  process.exit(2);
}
const data = JSON.parse(readFileSync(file, "utf8")) as ResultsFile;
const variants = data.servers
  .map((s) => SERVER_VARIANTS.find((v) => v.name === s.name))
  .filter((v): v is ServerVariant => v !== undefined);
for (const w of data.options.workloads.filter((x) => WORKLOADS.includes(x))) {
  // The title is the first line of the table printed at run time.
  const title = data.tables.find((t) => t.startsWith(w))?.split("\n")[0] ?? w;
  console.log(`${table(w, title, data.results[w], variants)}\n`);
}
