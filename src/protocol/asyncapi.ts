/**
 * Builds the AsyncAPI 3 document of the protocol from the parsed `schemas/`, so that
 * the description tools read cannot drift from what the server validates. Pure: the
 * files are read by `asyncapiFile.ts`, which also writes `schemas/asyncapi.json`.
 *
 * The shape: one server, one channel (the WebSocket at `/ws`), one message per
 * request, reply and push (the envelope with its `event` fixed and its `data` from the
 * event's schema), a `send` operation per request whose `reply` is its reply or an
 * `error`, and a `receive` operation per push.
 */

export type JsonSchema = { [key: string]: unknown };

/** What the document is made of; every schema as parsed from its file. */
export interface ProtocolSchemas {
  /** The application's version (package.json): the protocol has none of its own. */
  version: string;
  /** The port the server listens on unless told otherwise. */
  defaultPort: number;
  envelope: JsonSchema;
  defs: JsonSchema;
  /** Event name → schema of its `data`, one map per folder of `schemas/`. */
  requests: Record<string, JsonSchema>;
  replies: Record<string, JsonSchema>;
  pushes: Record<string, JsonSchema>;
  /** Requests whose `data` may be left out: their schema accepts no value, as the server checks it. */
  dataOptional: ReadonlySet<string>;
}

/** The push that is also every request's failure reply (protocol.md, "Requests and replies"). */
const ERROR_EVENT = "error";
const CHANNEL = "chat";
const SERVER = "chat";
const SCHEMAS = "#/components/schemas/";

/** `defs.json#/$defs/X` (from any folder) and `#/$defs/X` (inside defs.json) become components. */
const DEFS_REF = /^(?:(?:\.\.\/)?defs\.json)?#\/\$defs\/([A-Za-z0-9_]+)$/;

/**
 * A schema as it goes into the document: `$ref`s into defs.json point at
 * components/schemas, and the type generator's `tsType` annotation is dropped (it
 * means nothing to other tools). Any other `$ref` throws, so that a new kind of
 * reference fails here rather than leaving the document unresolvable.
 */
function rewrite(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewrite);
  if (typeof value !== "object" || value === null) return value;
  const out: JsonSchema = {};
  for (const [key, v] of Object.entries(value)) {
    // A string value tells the keyword from a property of that name (whose value is a schema).
    if (key === "tsType" && typeof v === "string") continue;
    if (key === "$ref" && typeof v === "string") {
      const name = DEFS_REF.exec(v)?.[1];
      if (name === undefined) throw new Error(`asyncapi: cannot place the $ref ${v}`);
      out[key] = SCHEMAS + name;
      continue;
    }
    out[key] = rewrite(v);
  }
  return out;
}

/** A file's schema as a component: without `$id`, which would move the base of every `$ref` inside it. */
function component(schema: JsonSchema): JsonSchema {
  const { $id: _id, ...rest } = schema;
  return rewrite(rest) as JsonSchema;
}

function titleOf(schema: JsonSchema, where: string): string {
  if (typeof schema.title !== "string" || !/^[A-Za-z0-9_]+$/.test(schema.title)) throw new Error(`asyncapi: ${where} needs a title usable as a name`);
  return schema.title;
}

function descriptionOf(schema: JsonSchema): string | undefined {
  return typeof schema.description === "string" ? schema.description : undefined;
}

type Kind = "request" | "reply" | "push";

interface Entry {
  kind: Kind;
  event: string;
  /** The message's key, and its data's schema's: the schema's title (the generated TypeScript type's name too). */
  key: string;
  schema: JsonSchema;
}

function message(entry: Entry, s: ProtocolSchemas): JsonSchema {
  const { kind, event, key, schema } = entry;
  // Requests carry a ref to be echoed; replies and errors echo it; other pushes have none.
  const hasRef = kind !== "push" || event === ERROR_EVENT;
  const dataRequired = !(kind === "request" && s.dataOptional.has(event));
  const envelopeProperties = s.envelope.properties as Record<string, unknown>;
  const payload: JsonSchema = {
    type: "object",
    additionalProperties: false,
    required: dataRequired ? ["event", "data"] : ["event"],
    properties: {
      event: { const: event },
      data: { $ref: SCHEMAS + key },
      ...(hasRef && { ref: rewrite(envelopeProperties.ref) }),
    },
  };
  const description = descriptionOf(schema);
  return {
    name: event,
    title: `${event} (${kind})`,
    ...(description !== undefined && { description }),
    ...(hasRef && { correlationId: { $ref: "#/components/correlationIds/ref" } }),
    payload,
  };
}

function entries(s: ProtocolSchemas): Entry[] {
  const folders: Array<[Kind, Record<string, JsonSchema>, string]> = [
    ["request", s.requests, "requests"],
    ["reply", s.replies, "replies"],
    ["push", s.pushes, "pushes"],
  ];
  return folders.flatMap(([kind, byEvent, folder]) =>
    Object.keys(byEvent)
      .sort()
      .map((event) => ({ kind, event, key: titleOf(byEvent[event]!, `schemas/${folder}/${event}.json`), schema: byEvent[event]! })),
  );
}

/** Throws when a name is used twice, since a second entry would silently replace the first. */
function unique(names: string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(`asyncapi: two ${what} are named ${n}`);
    seen.add(n);
  }
}

function operations(s: ProtocolSchemas, keyOf: (kind: Kind, event: string) => string): Record<string, JsonSchema> {
  const channel = { $ref: `#/channels/${CHANNEL}` };
  const ref = (key: string) => ({ $ref: `#/channels/${CHANNEL}/messages/${key}` });
  const ops: Record<string, JsonSchema> = {};
  for (const event of Object.keys(s.requests).sort()) {
    const description = descriptionOf(s.requests[event]!);
    ops[event] = {
      action: "send",
      channel,
      ...(description !== undefined && { description }),
      messages: [ref(keyOf("request", event))],
      // Exactly one of the two comes back on the same connection, echoing the request's ref.
      reply: { channel, messages: [ref(keyOf("reply", event)), ref(keyOf("push", ERROR_EVENT))] },
    };
  }
  for (const event of Object.keys(s.pushes).sort()) {
    const description = descriptionOf(s.pushes[event]!);
    ops[event] = { action: "receive", channel, ...(description !== undefined && { description }), messages: [ref(keyOf("push", event))] };
  }
  return ops;
}

/** The AsyncAPI 3.0.0 document of the protocol. Throws (a mistake in `schemas/`) when the schemas cannot be described. */
export function buildAsyncApi(s: ProtocolSchemas): JsonSchema {
  if (!(ERROR_EVENT in s.pushes)) throw new Error(`asyncapi: schemas/pushes/${ERROR_EVENT}.json is missing`);
  for (const event of Object.keys(s.requests)) if (!(event in s.replies)) throw new Error(`asyncapi: request ${event} has no reply schema`);
  const all = entries(s);
  const defs = s.defs.$defs as Record<string, JsonSchema>;
  unique([...Object.keys(defs), ...all.map((e) => e.key)], "schemas");
  // Every event name is a request or a push, never both: a reply carries its request's name.
  unique([...Object.keys(s.requests), ...Object.keys(s.pushes)], "operations");
  const keys = new Map(all.map((e) => [`${e.kind} ${e.event}`, e.key]));
  const keyOf = (kind: Kind, event: string) => keys.get(`${kind} ${event}`)!;

  const schemas: Record<string, JsonSchema> = {};
  for (const [name, def] of Object.entries(defs)) schemas[name] = component(def);
  for (const e of all) schemas[e.key] = component(e.schema);
  const messages = Object.fromEntries(all.map((e) => [e.key, message(e, s)]));
  const channelMessages = Object.fromEntries(all.map((e) => [e.key, { $ref: `#/components/messages/${e.key}` }]));

  return {
    asyncapi: "3.0.0",
    info: {
      title: "chat-server protocol",
      version: s.version,
      description:
        "The chat server's JSON protocol over one WebSocket. Generated from schemas/ by `npm run gen:asyncapi`; protocol.md is the full contract (ordering, audiences, limits, close codes).",
    },
    defaultContentType: "application/json",
    servers: {
      [SERVER]: {
        host: "{host}",
        protocol: "ws",
        description: "The chat server: the page, /healthz, /readyz and this document over HTTP on the same port, the protocol at /ws. wss when a TLS proxy stands in front of it.",
        variables: { host: { default: `localhost:${s.defaultPort}`, description: "The host name and port the server is reached at." } },
      },
    },
    channels: {
      [CHANNEL]: {
        address: "/ws",
        title: "The chat connection",
        description: `${descriptionOf(s.envelope) ?? ""} Text frames of UTF-8 JSON; no sub-protocol.`.trim(),
        servers: [{ $ref: `#/servers/${SERVER}` }],
        messages: channelMessages,
        bindings: { ws: { method: "GET", bindingVersion: "0.1.0" } },
      },
    },
    operations: operations(s, keyOf),
    components: {
      schemas,
      messages,
      correlationIds: {
        ref: {
          description: "The client's ref: a reply, or an error about the request, echoes the request's ref unchanged (an error only when the ref itself is valid).",
          location: "$message.payload#/ref",
        },
      },
    },
  };
}
