/**
 * The AsyncAPI document: current with schemas/, valid to the official parser,
 * complete, and true to real frames (it accepts a request exactly when the server does).
 */
import { readFileSync } from "node:fs";
import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface, type Diagnostic } from "@asyncapi/parser";
import { Ajv, type ValidateFunction } from "ajv";
import { beforeAll, describe, expect, it } from "vitest";
import { ASYNCAPI_FILE, generateAsyncApi } from "../src/protocol/asyncapiFile.js";
import { isRequestEvent } from "../src/protocol/events.js";
import { readFrame } from "../src/protocol/frame.js";
import { compileValidators, schemaEvents, SCHEMAS_DIR } from "../src/protocol/schemas.js";

type Json = { [key: string]: unknown };

const committed = readFileSync(ASYNCAPI_FILE, "utf8");
const doc = JSON.parse(committed) as Json;
const components = doc.components as { schemas: Json; messages: Record<string, Json> };
const FOLDERS = { requests: "request", replies: "reply", pushes: "push" } as const;

function titleOf(folder: string, event: string): string {
  return (JSON.parse(readFileSync(`${SCHEMAS_DIR}${folder}/${event}.json`, "utf8")) as { title: string }).title;
}

function errors(diagnostics: Diagnostic[]): string[] {
  return diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map((d) => `${d.code} at /${d.path.join("/")}: ${d.message}`);
}

let document: AsyncAPIDocumentInterface | undefined;
let diagnostics: Diagnostic[] = [];

beforeAll(async () => {
  ({ document, diagnostics } = await new Parser().parse(committed));
}, 60_000);

describe("schemas/asyncapi.json", () => {
  it("is what `npm run gen:asyncapi` makes of schemas/ now", () => {
    expect(committed).toBe(generateAsyncApi());
  });

  it("is a valid AsyncAPI 3.0.0 document to @asyncapi/parser, without one error", () => {
    expect(errors(diagnostics)).toEqual([]);
    expect(document?.version()).toBe("3.0.0");
  });

  it("has a message for every request, reply and push, carrying its event and its schema's data", () => {
    const messages = document!.allMessages();
    for (const [folder, kind] of Object.entries(FOLDERS)) {
      for (const event of schemaEvents(folder as keyof typeof FOLDERS)) {
        const key = titleOf(folder, event);
        const message = messages.get(key);
        expect(message, `${kind} ${event}`).toBeDefined();
        expect(message!.name()).toBe(event);
        const payload = components.messages[key]!.payload as { properties: Record<string, Json> };
        expect(payload.properties.event).toEqual({ const: event });
        expect(payload.properties.data).toEqual({ $ref: `#/components/schemas/${key}` });
        expect(components.schemas[key], `components/schemas/${key}`).toBeDefined();
      }
    }
  });

  it("sends every request with its reply or an error as the reply, and receives every push", () => {
    const operations = document!.operations();
    const names = (list: { all(): Array<{ id(): string }> } | undefined) => list?.all().map((m) => m.id());
    for (const event of schemaEvents("requests")) {
      const op = operations.get(event);
      expect(op?.isSend(), `send ${event}`).toBe(true);
      expect(names(op!.messages())).toEqual([titleOf("requests", event)]);
      expect(names(op!.reply()?.messages())).toEqual([titleOf("replies", event), titleOf("pushes", "error")]);
    }
    for (const event of schemaEvents("pushes")) {
      const op = operations.get(event);
      expect(op?.isReceive(), `receive ${event}`).toBe(true);
      expect(names(op!.messages())).toEqual([titleOf("pushes", event)]);
    }
    expect(operations.length).toBe(schemaEvents("requests").length + schemaEvents("pushes").length);
  });

  it("lets the parser see a broken document, so that a pass means something", async () => {
    const broken = structuredClone(doc);
    (broken.components as typeof components).schemas.Uuid = { $ref: "#/components/schemas/Nowhere" };
    expect(errors((await new Parser().parse(JSON.stringify(broken))).diagnostics)).not.toEqual([]);
  });
});

describe("the document's messages", () => {
  // Each message's payload with the components beside it, so that its #/components/... refs resolve.
  const ajv = new Ajv({ strict: false, allowUnionTypes: true });
  const validators = new Map<string, ValidateFunction>();
  function validate(key: string, frame: unknown): boolean {
    let v = validators.get(key);
    if (!v) validators.set(key, (v = ajv.compile({ ...(components.messages[key]!.payload as Json), components: { schemas: components.schemas } })));
    return v(frame);
  }
  const protocolMd = readFileSync(new URL("../protocol.md", import.meta.url), "utf8");
  const examples = (arrow: "→" | "←") => [...protocolMd.matchAll(new RegExp(`^${arrow} (.*)$`, "gm"))].map((m) => JSON.parse(m[1]!) as Json);
  const server = compileValidators();

  it("accept a request frame exactly when the server does: protocol.md's, without data, without ref, with a stray field", () => {
    for (const frame of examples("→")) {
      const { data: _data, ...withoutData } = frame;
      const { ref: _ref, ...withoutRef } = frame;
      for (const variant of [frame, withoutData, withoutRef, { ...frame, extra: 1 }]) {
        const accepted = readFrame(JSON.stringify(variant), false, server).ok;
        expect(validate(titleOf("requests", String(frame.event)), variant), JSON.stringify(variant)).toBe(accepted);
      }
    }
  });

  it("accept every reply and push of protocol.md, and a push with a ref only when it is an error", () => {
    for (const frame of examples("←")) {
      const event = String(frame.event);
      const key = isRequestEvent(event) ? titleOf("replies", event) : titleOf("pushes", event);
      expect(validate(key, frame), JSON.stringify(frame)).toBe(true);
      if (!isRequestEvent(event)) expect(validate(key, { ...frame, ref: 1 }), `${event} with a ref`).toBe(event === "error");
    }
  });
});
