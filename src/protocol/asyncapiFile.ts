/**
 * Reads `schemas/` for `buildAsyncApi` and writes the result to `schemas/asyncapi.json`
 * (`npm run gen:asyncapi`). The document is committed, as `wire.generated.ts` is, so
 * that tools and reviewers can read it without running the server; a test fails when
 * it is stale, and the server serves the committed file at `/asyncapi.json`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { DEFAULTS } from "../config.js";
import { buildAsyncApi, type JsonSchema, type ProtocolSchemas } from "./asyncapi.js";
import { compileValidators, schemaEvents, SCHEMAS_DIR } from "./schemas.js";

export const ASYNCAPI_FILE = `${SCHEMAS_DIR}asyncapi.json`;

function read(path: string): JsonSchema {
  return JSON.parse(readFileSync(path, "utf8")) as JsonSchema;
}

function folder(name: "requests" | "replies" | "pushes"): Record<string, JsonSchema> {
  return Object.fromEntries(schemaEvents(name).map((e) => [e, read(`${SCHEMAS_DIR}${name}/${e}.json`)]));
}

/** The schemas as they stand now, with what only the server's validators can tell. */
export function readProtocolSchemas(): ProtocolSchemas {
  const requests = folder("requests");
  // The server validates an absent `data` as undefined: asking the same validators keeps the two in step.
  const validators = compileValidators().request as Record<string, ((data: unknown) => boolean) | undefined>;
  const dataOptional = new Set(
    Object.keys(requests).filter((e) => {
      const validate = validators[e];
      if (!validate) throw new Error(`schemas/requests/${e}.json has no entry in REQUEST_EVENTS`);
      return validate(undefined);
    }),
  );
  const pkg = read(fileURLToPath(new URL("../../package.json", import.meta.url)));
  return {
    version: String(pkg.version),
    defaultPort: DEFAULTS.port,
    envelope: read(`${SCHEMAS_DIR}envelope.json`),
    defs: read(`${SCHEMAS_DIR}defs.json`),
    requests,
    replies: folder("replies"),
    pushes: folder("pushes"),
    dataOptional,
  };
}

/** The text of `schemas/asyncapi.json` as the schemas stand now. */
export function generateAsyncApi(): string {
  return `${JSON.stringify(buildAsyncApi(readProtocolSchemas()), null, 2)}\n`;
}

/** The committed document as the server sends it: compact (nobody reads the served copy by eye), read once at start-up. */
export async function readAsyncApiBody(): Promise<Buffer> {
  return Buffer.from(JSON.stringify(JSON.parse(await readFile(ASYNCAPI_FILE, "utf8"))));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(ASYNCAPI_FILE, generateAsyncApi());
  console.log(`wrote ${ASYNCAPI_FILE}`);
}
