/** The bench measures our server as `npm start` runs it. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadBenchOptions, SERVER_NODE_FLAGS, SERVER_VARIANTS, selectVariants } from "../bench/config.js";
import { ratioPairs } from "../bench/report.js";

describe("bench configuration", () => {
  it("starts our server with the Node flags of package.json's start script", () => {
    const start = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { scripts: { start: string } }).scripts.start;
    const flags = start.split(" ").filter((word) => word.startsWith("--"));
    expect(flags).toEqual(SERVER_NODE_FLAGS);
    for (const v of SERVER_VARIANTS.filter((v) => v.kind === "ours")) expect(v.args.slice(0, flags.length)).toEqual(flags);
  });

  it("pairs the disk server with the durable relay when --disk runs the raw one", () => {
    const names = (argv: string[]) => selectVariants({ ...loadBenchOptions(argv, {}) }).run.map((v) => v.name);
    expect(names(["--servers", "ours,raw", "--disk"])).toEqual(["ours", "ours-disk", "raw", "raw-durable"]);
    expect(names(["--servers", "ours,raw"])).toEqual(["ours", "raw"]);
    expect(names(["--servers", "ours", "--disk"])).toEqual(["ours", "ours-disk"]);
    const labels = ratioPairs(selectVariants({ ...loadBenchOptions(["--servers", "ours,raw,socketio", "--disk"], {}) }).run).map((p) => p.label);
    expect(labels).toEqual(["ours/raw", "ours/rawD", "ours/SIO", "ours-disk/raw", "ours-disk/rawD", "ours-disk/SIO"]);
  });
});
