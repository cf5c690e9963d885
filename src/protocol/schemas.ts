/**
 * Loads `schemas/` from disk once and compiles every validator at start-up, so that
 * the hot path only calls precompiled functions.
 */
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import { PUSH_EVENTS, REQUEST_EVENTS, type PushEvent, type RequestEvent } from "./events.js";

export const SCHEMAS_DIR = fileURLToPath(new URL("../../schemas/", import.meta.url));

type JsonSchema = Record<string, unknown>;

function readSchema(relative: string): JsonSchema {
  return JSON.parse(readFileSync(SCHEMAS_DIR + relative, "utf8")) as JsonSchema;
}

/** The event names that have a schema file in `schemas/<folder>/`. */
export function schemaEvents(folder: "requests" | "replies" | "pushes"): string[] {
  return readdirSync(SCHEMAS_DIR + folder)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

export interface Validators {
  envelope: ValidateFunction;
  request: Record<RequestEvent, ValidateFunction>;
  reply: Record<RequestEvent, ValidateFunction>;
  push: Record<PushEvent, ValidateFunction>;
  /** The parsed schema of each request's data, for the error messages that cite it. */
  requestSchema: Record<RequestEvent, JsonSchema>;
}

function byEvent<E extends string>(
  ajv: Ajv,
  events: readonly E[],
  folder: string,
): Record<E, ValidateFunction> {
  const entries = events.map((e) => {
    const validate = ajv.getSchema(`${folder}/${e}.json`);
    if (!validate) throw new Error(`schemas/${folder}/${e}.json is missing`);
    return [e, validate] as const;
  });
  return Object.fromEntries(entries) as Record<E, ValidateFunction>;
}

/** Compiles every schema once. Throws (a programmer mistake) if a schema is missing or invalid. */
export function compileValidators(): Validators {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  // Annotations for the type generator and for error messages; ajv need not act on them.
  ajv.addKeyword({ keyword: "tsType", schemaType: "string" });
  ajv.addKeyword({ keyword: "x-oneOf-reason", schemaType: "string" });

  ajv.addSchema(readSchema("defs.json"));
  ajv.addSchema(readSchema("envelope.json"));
  const requestSchema = {} as Record<RequestEvent, JsonSchema>;
  for (const e of REQUEST_EVENTS) {
    requestSchema[e] = readSchema(`requests/${e}.json`);
    ajv.addSchema(requestSchema[e]);
    ajv.addSchema(readSchema(`replies/${e}.json`));
  }
  for (const e of PUSH_EVENTS) ajv.addSchema(readSchema(`pushes/${e}.json`));

  const envelope = ajv.getSchema("envelope.json");
  if (!envelope) throw new Error("schemas/envelope.json is missing");
  return {
    envelope,
    request: byEvent(ajv, REQUEST_EVENTS, "requests"),
    reply: byEvent(ajv, REQUEST_EVENTS, "replies"),
    push: byEvent(ajv, PUSH_EVENTS, "pushes"),
    requestSchema,
  };
}
