/**
 * The orchestrator's handle on its load generator processes: spawns them, sends
 * each request to all and gathers the replies, and measures their CPU like the
 * server's. Every request has a deadline so a stuck child cannot hang the run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { FromLoadgen, SetupRequest, ToLoadgen } from "./ipc.js";
import { nodeCommand, stopChild, track } from "./servers.js";

type ReplyOf<T extends FromLoadgen["type"]> = Extract<FromLoadgen, { type: T }>;

export class LoadgenPool {
  readonly #children: ChildProcess[];

  private constructor(children: ChildProcess[]) {
    this.#children = children;
  }

  static spawn(count: number, cwd: string, fds: number): LoadgenPool {
    const children = Array.from({ length: count }, () => {
      const cmd = nodeCommand(["--import", "tsx", "bench/loadgen.ts"], fds);
      return track(spawn(cmd.file, cmd.args, { cwd, stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    });
    return new LoadgenPool(children);
  }

  get pids(): number[] {
    return this.#children.map((c) => c.pid ?? -1);
  }

  get size(): number {
    return this.#children.length;
  }

  /** Sends one request per child (index i gets requests[i]) and waits for each reply. */
  async each<T extends FromLoadgen["type"]>(expect: T, requests: ToLoadgen[], timeoutMs: number): Promise<Array<ReplyOf<T>>> {
    return Promise.all(this.#children.map((child, i) => ask(child, requests[i]!, expect, timeoutMs)));
  }

  /** The same request to every child. */
  all<T extends FromLoadgen["type"]>(expect: T, request: ToLoadgen, timeoutMs: number): Promise<Array<ReplyOf<T>>> {
    return this.each(expect, this.#children.map(() => request), timeoutMs);
  }

  async setup(requests: SetupRequest[], timeoutMs: number): Promise<Array<ReplyOf<"ready">>> {
    return this.each("ready", requests, timeoutMs);
  }

  /** Asks children to close their sockets and exit; kills any that do not. */
  async close(): Promise<void> {
    await this.all("closed", { type: "close" }, 15_000).catch(() => undefined);
    await Promise.all(this.#children.map((c) => stopChild(c, 3000)));
  }
}

function ask<T extends FromLoadgen["type"]>(child: ChildProcess, req: ToLoadgen, expect: T, timeoutMs: number): Promise<ReplyOf<T>> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    const onMessage = (msg: FromLoadgen): void => {
      done();
      if (msg.type === expect) resolve(msg as ReplyOf<T>);
      else reject(new Error(`load generator: expected ${expect}, got ${msg.type === "failed" ? `failure: ${msg.error}` : msg.type}`));
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`load generator exited (code ${code}) during ${req.type}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`load generator: no ${expect} reply to ${req.type} within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("message", onMessage);
    child.on("exit", onExit);
    if (!child.connected) {
      done();
      reject(new Error(`load generator is not connected (${req.type})`));
      return;
    }
    child.send(req);
  });
}
