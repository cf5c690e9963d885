/**
 * The production sequence, in a copy of the checkout (its files git does not ignore): build, drop the dev
 * dependencies, start. What runs then is compiled JavaScript alone (tsx and TypeScript
 * are gone), and it must serve the page, the health check and the protocol.
 * `npm ci` is replaced by a copy of this checkout's node_modules: the same lock file,
 * without a network (better-sqlite3 would otherwise be compiled again).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient } from "../src/client/index.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "chat-prod-"));
let child: ChildProcess | undefined;

afterAll(() => {
  // npm start runs the server as a grandchild (npm → sh → node): the whole process group goes.
  if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function npm(args: string[]): string {
  return execFileSync("npm", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } });
}

describe("a production install", { timeout: 180_000 }, () => {
  it("builds, runs without its dev dependencies, and serves", async () => {
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter((f) => f && existsSync(join(ROOT, f)));
    for (const f of files) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(join(ROOT, f), join(dir, f));
    }
    cpSync(join(ROOT, "node_modules"), join(dir, "node_modules"), { recursive: true, verbatimSymlinks: true });

    npm(["run", "build"]);
    npm(["prune", "--omit=dev", "--no-audit", "--no-fund"]);
    expect(existsSync(join(dir, "node_modules", "tsx"))).toBe(false);
    expect(existsSync(join(dir, "node_modules", "typescript"))).toBe(false);

    child = spawn("npm", ["start", "--", "--port", "0", "--host", "127.0.0.1", "--db", ":memory:"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const line = await new Promise<{ page: string; url: string }>((resolve, reject) => {
      child!.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const found = /\{"level".*"msg":"chat page at .*\}/.exec(out);
        if (found) resolve(JSON.parse(found[0]) as { page: string; url: string });
      });
      child!.on("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
    });
    expect((await fetch(new URL("/healthz", line.page))).status).toBe(200);
    expect(await (await fetch(line.page)).text()).toContain("<html");
    const c = await ChatClient.connect(line.url, { WebSocket: WebSocket as never });
    expect((await c.request("ping")).ts).toBeTypeOf("string");
    c.close();
  });
});
