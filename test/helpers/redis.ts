/**
 * A real redis-server of the tests' own: a free port, a temporary folder, the
 * append-only file on with an fsync per write, so that a kill and a restart keep
 * what Redis acknowledged. Tests pause it (SIGSTOP), kill it and start it again.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** SIGSTOP: the process holds its connections but answers nothing. */
  pause(): void;
  resume(): void;
  /** SIGKILL, then (after `downMs`) a new process on the same port and folder, which loads the append-only file. */
  restart(downMs?: number): Promise<void>;
  /** Everything gone: a new, empty Redis on the same port. */
  replaceWithEmpty(): Promise<void>;
  /** Runs redis-cli against it, returning its output. */
  cli(...args: string[]): string;
  stop(): Promise<void>;
}

export function redisAvailable(): boolean {
  return spawnSync("redis-server", ["--version"]).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let dir = mkdtempSync(join(tmpdir(), "chat-redis-"));
  const folders = [dir];
  let child: ChildProcess;
  const launch = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"], { stdio: "ignore" });
    const deadline = Date.now() + 10_000;
    while (!(await reachable(port))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause: () => void child.kill("SIGSTOP"),
    resume: () => void child.kill("SIGCONT"),
    async restart(downMs = 0) {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    async replaceWithEmpty() {
      await kill();
      dir = mkdtempSync(join(tmpdir(), "chat-redis-"));
      folders.push(dir);
      await launch();
    },
    cli(...args: string[]) {
      return spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).stdout.trim();
    },
    async stop() {
      await kill();
      for (const f of folders) rmSync(f, { recursive: true, force: true });
    },
  };
}
