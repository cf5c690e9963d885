/**
 * Turns ajv's findings into the `details.fields` of a `bad_request`: one entry per
 * failing field, as a JSON pointer into the frame and a reason a person can act on.
 */
import type { ErrorObject } from "ajv";
import type { FieldProblem } from "./errors.js";

/** Reasons for the named shared definitions, clearer than "must match pattern ...". */
const REASON_BY_TITLE: Record<string, string> = {
  Uuid: "must be a lower-case UUID",
  RoomTarget: 'must be a room id (a UUID) or "all"',
  Ref: "must be a string of 1-64 characters or an integer from 0 to 2^53-1",
  Name: "must be a string of at most 256 characters without control, direction-changing or invisible characters",
  Timestamp: "must be an ISO-8601 UTC timestamp",
};

function titleOf(schema: unknown): string | undefined {
  if (typeof schema !== "object" || schema === null) return undefined;
  const title = (schema as { title?: unknown }).title;
  return typeof title === "string" ? title : undefined;
}

function reasonFor(e: ErrorObject): string {
  const named = REASON_BY_TITLE[titleOf(e.parentSchema) ?? ""];
  if (named) return named;
  switch (e.keyword) {
    case "required":
      return "is required";
    case "additionalProperties":
      return "is not allowed here";
    case "pattern":
      // The only free-text pattern is "\S": text that is not only white space.
      return e.params.pattern === "\\S" ? "must not be only white space" : `must match ${String(e.params.pattern)}`;
    default:
      return e.message ?? "is invalid";
  }
}

function pointerOf(e: ErrorObject, prefix: string): string {
  const base = prefix + e.instancePath;
  if (e.keyword === "required") return `${base}/${String(e.params.missingProperty)}`;
  if (e.keyword === "additionalProperties") return `${base}/${String(e.params.additionalProperty)}`;
  return base;
}

/** Keywords that say "this branch is not the shape the client meant", as opposed to a bad value. */
function isShapeError(e: ErrorObject, at: string): boolean {
  return e.instancePath === at && (e.keyword === "required" || e.keyword === "additionalProperties");
}

/**
 * For a failed oneOf, keeps the findings of the one branch whose shape fits the
 * value (the client's evident intent); when none or several fit, says so in one line.
 */
function resolveOneOf(errors: ErrorObject[]): ErrorObject[] {
  const failed = errors.filter((e) => e.keyword === "oneOf");
  let result = errors;
  for (const one of failed) {
    const prefix = one.schemaPath + "/";
    const branches = one.schema as unknown[];
    const fitting = branches
      .map((_, i) => result.filter((e) => e.schemaPath.startsWith(`${prefix}${i}/`)))
      .filter((branchErrors) => !branchErrors.some((e) => isShapeError(e, one.instancePath)));
    const others = result.filter((e) => e !== one && !e.schemaPath.startsWith(prefix));
    if (fitting.length === 1) {
      result = [...others, ...(fitting[0] ?? [])];
    } else {
      const reason = (one.parentSchema as Record<string, unknown>)["x-oneOf-reason"];
      result = [...others, { ...one, message: typeof reason === "string" ? reason : "must match exactly one shape" }];
    }
  }
  return result;
}

/**
 * Removes the findings of a failed anyOf's branches: the anyOf's own reason covers the
 * value. Branches reached through $ref carry another schema path, so match by value path.
 */
function collapseAnyOf(errors: ErrorObject[]): ErrorObject[] {
  const paths = new Set(errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath));
  return errors.filter((e) => e.keyword === "anyOf" || !paths.has(e.instancePath));
}

/** An error names at most this many fields, each pointer at most this long: a bad frame must not buy a reply larger than itself. */
const MAX_PROBLEMS = 20;
const MAX_POINTER = 256;

export function fieldProblems(errors: ErrorObject[], prefix: string): FieldProblem[] {
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const e of collapseAnyOf(resolveOneOf(errors))) {
    if (problems.length === MAX_PROBLEMS) break;
    // A client's key may hold a lone surrogate: shown as U+FFFD, since it cannot be echoed as it came.
    const pointer = (pointerOf(e, prefix) as string & { toWellFormed(): string }).toWellFormed();
    const problem = { pointer: pointer.length > MAX_POINTER ? `${[...pointer].slice(0, MAX_POINTER).join("")}…` : pointer, reason: reasonFor(e) };
    const key = `${problem.pointer}\u0000${problem.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}
