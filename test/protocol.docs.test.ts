/** Keeps protocol.md, schemas/ and the generated types in agreement. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateWireTypes, generatedPath } from "../src/protocol/codegen.js";
import { CLOSE_CODES } from "../src/protocol/closeCodes.js";
import { PUSH_EVENTS, REQUEST_EVENTS } from "../src/protocol/events.js";
import { readFrame } from "../src/protocol/frame.js";
import { compileValidators, schemaEvents, SCHEMAS_DIR } from "../src/protocol/schemas.js";
import { schemaProblem } from "./helpers/server.js";

const doc = readFileSync(new URL("../protocol.md", import.meta.url), "utf8");
const validators = compileValidators();

function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  expect(start, `protocol.md has a "## ${title}" section`).toBeGreaterThan(-1);
  const end = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

function headings(text: string): string[] {
  return [...text.matchAll(/^### `([a-z_]+)`$/gm)].map((m) => m[1]!).sort();
}

function examples(arrow: "→" | "←"): Array<{ event: string; data?: unknown; ref?: unknown }> {
  return [...doc.matchAll(new RegExp(`^${arrow} (.*)$`, "gm"))].map((m) => JSON.parse(m[1]!));
}

describe("protocol.md", () => {
  it("documents exactly the requests that have schemas", () => {
    expect(headings(section("Requests and replies"))).toEqual(schemaEvents("requests"));
    expect(schemaEvents("replies")).toEqual(schemaEvents("requests"));
    expect([...REQUEST_EVENTS].sort()).toEqual(schemaEvents("requests"));
  });

  it("documents exactly the pushes that have schemas", () => {
    expect(headings(section("Pushes"))).toEqual(schemaEvents("pushes"));
    expect([...PUSH_EVENTS].sort()).toEqual(schemaEvents("pushes"));
  });

  it("lists exactly the error codes of the error schema", () => {
    const schema = JSON.parse(readFileSync(`${SCHEMAS_DIR}pushes/error.json`, "utf8"));
    const documented = [...section("Error codes").matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...schema.properties.code.enum].sort());
  });

  it("lists exactly the close codes of the registry, each with whether to reconnect", () => {
    const rows = [...section("Close codes").matchAll(/^\| (\d{4}) \| .* \| (yes|no) \|$/gm)].map((m) => [Number(m[1]), m[2] === "yes"]);
    const registry = Object.values(CLOSE_CODES).map((c) => [c.code, c.retry]);
    expect(rows.sort()).toEqual(registry.sort());
  });

  it("gives a valid example of every request, and every example request is valid", () => {
    const sent = examples("→");
    for (const frame of sent) {
      const result = readFrame(JSON.stringify(frame), false, validators);
      // The error example sends a bad id on purpose.
      if (frame.ref === 15) expect(result.ok).toBe(false);
      else expect(result, JSON.stringify(frame)).toMatchObject({ ok: true });
    }
    expect(new Set(sent.map((f) => f.event))).toEqual(new Set(REQUEST_EVENTS));
  });

  it("refuses a field the schema does not name in the data of every request, except those whose data is free", () => {
    const free = new Set(["conversations", "del_user", "ping", "replace_token", "show_rooms", "sign_out"]);
    const checked = new Set<string>();
    for (const frame of examples("→")) {
      if (frame.ref === 15 || typeof frame.data !== "object" || frame.data === null) continue;
      const result = readFrame(JSON.stringify({ ...frame, data: { ...frame.data, zz_extra: 1 } }), false, validators);
      if (free.has(frame.event)) expect(result.ok, frame.event).toBe(true);
      else expect(result, frame.event).toMatchObject({ ok: false, error: { code: "bad_request" } });
      checked.add(frame.event);
    }
    for (const event of REQUEST_EVENTS) if (!free.has(event)) expect(checked.has(event), `${event} has an example with object data`).toBe(true);
  });

  it("gives a valid example of every reply and push", () => {
    const received = examples("←");
    for (const frame of received) expect(schemaProblem({ event: frame.event, data: frame.data }), JSON.stringify(frame)).toBeUndefined();
    expect(new Set(received.map((f) => f.event))).toEqual(new Set([...REQUEST_EVENTS, ...PUSH_EVENTS]));
  });
});

describe("wire.generated.ts", () => {
  it("is what `npm run gen:types` makes of schemas/ now", async () => {
    expect(readFileSync(generatedPath, "utf8")).toBe(await generateWireTypes());
  });
});
