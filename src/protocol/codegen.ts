/**
 * Generates `wire.generated.ts`, the TypeScript view of `schemas/`, so that the
 * types used by the server and the SDK cannot drift from the wire contract.
 * Run with `npm run gen:types`; a test fails when the committed file is stale.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compile, type JSONSchema } from "json-schema-to-typescript";

const schemasDir = fileURLToPath(new URL("../../schemas/", import.meta.url));
export const generatedPath = fileURLToPath(new URL("./wire.generated.ts", import.meta.url));

function eventsIn(folder: string): string[] {
  return readdirSync(schemasDir + folder)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

function mapOf(title: string, folder: string): JSONSchema {
  const events = eventsIn(folder);
  return {
    title,
    type: "object",
    additionalProperties: false,
    required: events,
    properties: Object.fromEntries(events.map((e) => [e, { $ref: `${folder}/${e}.json` }])),
  };
}

/** Returns the text of `wire.generated.ts` as the schemas stand now. */
export async function generateWireTypes(): Promise<string> {
  const root: JSONSchema = {
    title: "Wire",
    type: "object",
    additionalProperties: false,
    required: ["requests", "replies", "pushes", "envelope"],
    properties: {
      envelope: { $ref: "envelope.json" },
      requests: mapOf("RequestDataMap", "requests"),
      replies: mapOf("ReplyDataMap", "replies"),
      pushes: mapOf("PushDataMap", "pushes"),
    },
  };
  return compile(root, "Wire", {
    cwd: schemasDir,
    bannerComment: "// Generated from schemas/ by `npm run gen:types`. Do not edit by hand.",
    additionalProperties: false,
    unknownAny: true,
    format: true,
    style: { singleQuote: false, printWidth: 100 },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(generatedPath, await generateWireTypes());
  console.log(`wrote ${generatedPath}`);
}
