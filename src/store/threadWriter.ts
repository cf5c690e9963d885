/**
 * The store's side of its writer thread (sqliteWriterThread.ts). Batches go over without
 * waiting; calls (flush, prune, touch, close) block the caller until the thread answers,
 * with Atomics.wait on a shared counter and the answer taken with receiveMessageOnPort,
 * so that the store keeps its synchronous interface.
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { MessageChannel, receiveMessageOnPort, threadId, Worker, type MessagePort } from "node:worker_threads";
import type { Batch } from "./sqliteApplier.js";
import type { Retention } from "./retention.js";
import type { SqliteWriter } from "./sqliteWriter.js";

export interface WriterSetup {
  path: string;
  replies: MessagePort;
  /** [0]: replies sent so far; [1]: the seq of the last batch applied; [2]: of the last one synced; [3]: 1 once the thread is exiting. */
  shared: BigInt64Array;
}

export type WriterRequest =
  | { type: "apply"; batches: readonly (Batch | string)[]; seq?: number }
  | { type: "sync" }
  | { type: "flush"; id: number; sync: boolean }
  | { type: "prune"; id: number; retain: Retention; budget: number }
  | { type: "touch"; id: number }
  | { type: "backup"; id: number; path: string }
  | { type: "close"; id: number };

/** The answer to call `id` (0: the thread's start). */
export interface WriterReply {
  id: number;
  value?: unknown;
  error?: { message: string; code?: string };
}

type Call = WriterRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

/** How long a call may wait for the thread before the store gives up on it. */
const ANSWER_WITHIN_MS = 60_000;

export class ThreadWriter implements SqliteWriter {
  readonly #worker: Worker;
  readonly #replies: MessagePort;
  readonly #shared = new BigInt64Array(new SharedArrayBuffer(32));
  readonly #answers = new Map<number, WriterReply>();
  #nextId = 1;
  #closed = false;
  /** Why the thread is gone, once it is (seen between calls: a call under way waits out ANSWER_WITHIN_MS). */
  #gone: string | undefined;

  /** Starts the thread and waits until it has opened `path`; throws what it could not. */
  constructor(path: string) {
    const { port1, port2 } = new MessageChannel();
    this.#replies = port1;
    const setup: WriterSetup = { path, replies: port2, shared: this.#shared };
    // A bootstrap that reports a thread that cannot even load, rather than leaving the store waiting.
    // It also marks the thread's exit where a call waiting in Atomics.wait sees it (the 'exit' event waits for the event loop).
    const bootstrap = `
      const { workerData } = require("node:worker_threads");
      process.on("exit", () => {
        Atomics.store(workerData.shared, 3, 1n);
        Atomics.add(workerData.shared, 0, 1n);
        Atomics.notify(workerData.shared, 0);
      });
      import(${JSON.stringify(threadModule())}).catch((err) => {
        workerData.replies.postMessage({ id: 0, error: { message: String(err && err.message || err) } });
        Atomics.add(workerData.shared, 0, 1n);
        Atomics.notify(workerData.shared, 0);
      });`;
    this.#worker = new Worker(bootstrap, { eval: true, workerData: setup, transferList: [port2] });
    // Never what keeps the process running, and its failures are answered through `replies`.
    this.#worker.unref();
    this.#worker.on("error", (err) => (this.#gone ??= `the database writer thread failed: ${err.message}`));
    this.#worker.on("exit", () => (this.#gone ??= "the database writer thread stopped"));
    try {
      this.#wait(0);
    } catch (err) {
      this.#closed = true;
      void this.#worker.terminate();
      this.#replies.close();
      throw err;
    }
  }

  get applied(): number {
    return Number(Atomics.load(this.#shared, 1));
  }

  get durable(): number {
    return Number(Atomics.load(this.#shared, 2));
  }

  sync(): void {
    this.#worker.postMessage({ type: "sync" } satisfies WriterRequest);
  }

  apply(batches: readonly (Batch | string)[], seq?: number): void {
    this.#worker.postMessage({ type: "apply", batches, seq } satisfies WriterRequest);
  }

  flush(sync: boolean): void {
    this.#call({ type: "flush", sync });
  }

  prune(retain: Retention, budget: number): number {
    return this.#call({ type: "prune", retain, budget }) as number;
  }

  touch(): void {
    this.#call({ type: "touch" });
  }

  async backup(path: string): Promise<void> {
    const id = this.#send({ type: "backup", path });
    for (;;) {
      this.#drain();
      if (this.#answers.has(id)) break;
      // A close meanwhile ends the copy in the thread, without an answer.
      if (this.#closed || this.#gone !== undefined) throw new Error(this.#gone ?? "the store closed during the backup");
      await new Promise((r) => setTimeout(r, 10));
    }
    this.#take(id);
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.#call({ type: "close" });
    } finally {
      this.#closed = true;
      void this.#worker.terminate();
      this.#replies.close();
    }
  }

  #send(call: Call): number {
    if (this.#closed && call.type !== "close") throw new Error("the database writer thread is closed");
    if (this.#gone !== undefined) throw new Error(this.#gone);
    const id = this.#nextId++;
    this.#worker.postMessage({ ...call, id } as WriterRequest);
    return id;
  }

  #call(call: Call): unknown {
    return this.#wait(this.#send(call));
  }

  #drain(): void {
    for (let m = receiveMessageOnPort(this.#replies); m !== undefined; m = receiveMessageOnPort(this.#replies)) {
      const r = m.message as WriterReply;
      this.#answers.set(r.id, r);
    }
  }

  /** Blocks until the answer to `id` is in, and returns its value or throws its failure. */
  #wait(id: number): unknown {
    const deadline = Date.now() + ANSWER_WITHIN_MS;
    for (;;) {
      const seen = Atomics.load(this.#shared, 0);
      this.#drain();
      if (this.#answers.has(id)) return this.#take(id);
      if (Atomics.load(this.#shared, 3) === 1n) {
        this.#gone ??= "the database writer thread stopped";
        throw new Error(this.#gone);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the database writer thread did not answer within ${ANSWER_WITHIN_MS / 1000} s`);
      Atomics.wait(this.#shared, 0, seen, left);
    }
  }

  #take(id: number): unknown {
    const r = this.#answers.get(id)!;
    this.#answers.delete(id);
    if (r.error) throw Object.assign(new Error(r.error.message), r.error.code === undefined ? {} : { code: r.error.code });
    return r.value;
  }
}

let bundled: string | undefined;

/**
 * The thread's module: beside this one when compiled; when running from TypeScript (tsx,
 * vitest), its source bundled once per process into node_modules/.cache, since a worker
 * does not inherit the loader that runs .ts files.
 */
function threadModule(): string {
  const compiled = new URL("./sqliteWriterThread.js", import.meta.url);
  if (!import.meta.url.endsWith(".ts")) return compiled.href;
  if (bundled !== undefined) return bundled;
  const esbuild = createRequire(import.meta.url)("esbuild") as typeof import("esbuild");
  const dir = fileURLToPath(new URL("../../node_modules/.cache/chat-server/", import.meta.url));
  const result = esbuild.buildSync({
    entryPoints: [fileURLToPath(new URL("./sqliteWriterThread.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    write: false,
    logLevel: "silent",
  });
  const contents = result.outputFiles[0]!.contents;
  // Named by its contents: checkouts sharing node_modules (worktrees) cannot load each other's.
  const out = `${dir}sqliteWriterThread-${createHash("sha256").update(contents).digest("hex").slice(0, 16)}.mjs`;
  mkdirSync(dir, { recursive: true });
  // Through a file of this process's own, renamed into place: test files bundle at the same time.
  const partial = `${out}.${process.pid}.${threadId}`;
  writeFileSync(partial, contents);
  renameSync(partial, out);
  bundled = new URL(`file://${out}`).href;
  return bundled;
}
