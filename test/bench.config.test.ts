/** The bench measures our server as `npm start` runs it. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS, SERVER_VARIANTS } from "../bench/config.js";

describe("bench configuration", () => {
  it("starts our server with the Node flags of package.json's start script", () => {
    const start = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { scripts: { start: string } }).scripts.start;
    const flags = start.split(" ").filter((word) => word.startsWith("--"));
    expect(flags).toEqual(SERVER_NODE_FLAGS);
    for (const v of SERVER_VARIANTS.filter((v) => v.kind === "ours")) expect(v.args.slice(0, flags.length)).toEqual(flags);
  });
});
