/**
 * Reads one client frame: parse → envelope → event → data schema → normalise.
 * Every outcome is a value: a typed request, or the `error` data to answer with.
 */
import { isVisibleName } from "../core/names.js";
import { errorData, type ErrorDetails } from "./errors.js";
import { isRequestEvent, type RequestEvent } from "./events.js";
import { fieldProblems } from "./fieldErrors.js";
import type { Validators } from "./schemas.js";
import type { ErrorPush, Ref, RequestDataMap } from "./wire.generated.js";

/** A request that passed every check; `data` has its schema's type. */
export type Request = {
  [E in RequestEvent]: { event: E; data: RequestDataMap[E]; ref?: Ref };
}[RequestEvent];

export type FrameResult =
  | { ok: true; request: Request }
  | { ok: false; error: ErrorPush; ref?: Ref };

/** Names are checked after trimming; the schema only bounds their raw size. */
const TRIMMED_NAME_LIMITS: Partial<Record<RequestEvent, { field: string; max: number }>> = {
  change_name: { field: "username", max: 32 },
  create_room: { field: "room_name", max: 64 },
  rename_room: { field: "room_name", max: 64 },
};

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function badRequest(request: string | undefined, fields: ErrorDetails["fields"], ref?: Ref): FrameResult {
  const first = fields?.[0];
  const message = first ? `Invalid request: ${first.pointer} ${first.reason}.` : "Invalid request.";
  return withRef({ ok: false, error: errorData("bad_request", request, message, { fields }) }, ref);
}

function withRef(result: FrameResult & { ok: false }, ref: Ref | undefined): FrameResult {
  if (ref !== undefined) result.ref = ref;
  return result;
}

const NOT_WELL_FORMED = "must be well-formed Unicode (no lone surrogate)";

/** Whether a string is well-formed UTF-16: a lone surrogate could not be stored or echoed as it came. */
function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** The JSON pointer of the first string in `value` that is not well-formed, if any (iterative: data may nest deeply). */
function malformedString(value: unknown, base: string): string | undefined {
  const stack: Array<[unknown, string]> = [[value, base]];
  while (stack.length > 0) {
    const [v, pointer] = stack.pop()!;
    if (typeof v === "string") {
      if (!isWellFormed(v)) return pointer;
    } else if (typeof v === "object" && v !== null) {
      for (const [k, child] of Object.entries(v)) {
        const at = `${pointer}/${k.replaceAll("~", "~0").replaceAll("/", "~1")}`;
        // A key is a string too; the pointer names the object holding it, since the key could not be echoed.
        if (!isWellFormed(k)) return pointer;
        stack.push([child, at]);
      }
    }
  }
  return undefined;
}

/** A ref the server can echo unchanged: the schema's Ref (its length in code points, as ajv counts), checked without ajv. */
export function isValidRef(ref: unknown): ref is Ref {
  return (
    // Code points are never more than UTF-16 units: only a long ref needs counting.
    (typeof ref === "string" && ref.length >= 1 && (ref.length <= 64 || [...ref].length <= 64) && isWellFormed(ref)) ||
    (typeof ref === "number" && Number.isSafeInteger(ref) && ref >= 0)
  );
}

/** Limits below the schema's own ceilings, set by the server's options. */
export interface FrameLimits {
  maxMessageChars: number;
}

const NO_LIMITS: FrameLimits = { maxMessageChars: 4000 };

export function readFrame(raw: string | Buffer, isBinary: boolean, v: Validators, limits: FrameLimits = NO_LIMITS): FrameResult {
  if (isBinary) {
    return { ok: false, error: errorData("bad_json", undefined, "Binary frames are not accepted: send UTF-8 JSON text.") };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    return { ok: false, error: errorData("bad_json", undefined, "The frame is not valid JSON.") };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return {
      ok: false,
      error: errorData("bad_json", undefined, `Expected a JSON object (an envelope), received ${describe(parsed)}.`),
    };
  }
  const envelope = parsed as Record<string, unknown>;
  const ref = isValidRef(envelope.ref) ? envelope.ref : undefined;
  const event = typeof envelope.event === "string" ? envelope.event : undefined;

  if (!v.envelope(envelope)) {
    return badRequest(event, fieldProblems(v.envelope.errors ?? [], ""), ref);
  }
  // The schema has made both strings (or absent, or a number for ref).
  const malformedEnvelope = typeof envelope.ref === "string" && !isWellFormed(envelope.ref) ? "/ref" : event !== undefined && !isWellFormed(event) ? "/event" : undefined;
  if (malformedEnvelope !== undefined) return badRequest(undefined, [{ pointer: malformedEnvelope, reason: NOT_WELL_FORMED }], ref);
  if (event === undefined || !isRequestEvent(event)) {
    return withRef(
      { ok: false, error: errorData("unknown_event", event, `Unknown event ${JSON.stringify(event)}.`) },
      ref,
    );
  }
  let data = envelope.data;
  // The "any data" requests (del_user, show_rooms, ping) have schemas that accept every value, or none.
  const validate = v.request[event];
  if (!validate(data)) return badRequest(event, fieldProblems(validate.errors ?? [], "/data"), ref);
  const malformed = malformedString(data, "/data");
  if (malformed !== undefined) {
    return badRequest(event, [{ pointer: malformed, reason: NOT_WELL_FORMED }], ref);
  }
  if (event === "send_message" || event === "edit_message") {
    const length = [...(data as { message: string }).message].length;
    if (length > limits.maxMessageChars) {
      return badRequest(event, [{ pointer: "/data/message", reason: `must be at most ${limits.maxMessageChars} characters` }], ref);
    }
  }
  const limit = TRIMMED_NAME_LIMITS[event];
  if (limit) {
    const record = data as Record<string, string>;
    const trimmed = (record[limit.field] ?? "").trim();
    const length = [...trimmed].length; // code points, as the schema's maxLength counts
    if (length < 1 || length > limit.max) {
      const reason = `must be 1-${limit.max} characters after trimming white space`;
      return badRequest(event, [{ pointer: `/data/${limit.field}`, reason }], ref);
    }
    if (!isVisibleName(trimmed)) return badRequest(event, [{ pointer: `/data/${limit.field}`, reason: "must contain a visible character" }], ref);
    data = { ...record, [limit.field]: trimmed };
  }
  const request = { event, data } as Request;
  if (ref !== undefined) request.ref = ref;
  return { ok: true, request };
}
