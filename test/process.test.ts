/** The real entry point as a child process: start-up line, health check, signals. */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient } from "../src/client/index.js";
import { killChildren, startChild } from "./helpers/process.js";

afterEach(killChildren);

describe("the server process", () => {
  it("logs one line with its address, answers /healthz, and closes clients with 1001 and exits 0 on SIGTERM", async () => {
    const { child, url, lines } = await startChild();
    expect(lines).toHaveLength(1);
    const page = url.replace("ws:", "http:").replace(/\/ws$/, "/");
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: `chat page at ${page} · WebSocket at ${url}`, page, url });
    expect((await fetch(page)).headers.get("content-type")).toMatch(/^text\/html/);
    const health = await fetch(url.replace("ws:", "http:").replace("/ws", "/healthz"));
    expect(health.status).toBe(200);

    const clients = await Promise.all([1, 2, 3].map(() => ChatClient.connect(url, { WebSocket: WebSocket as never })));
    const codes = clients.map((c) => new Promise<number>((resolve) => c.on("close", (ev) => resolve(ev.code))));
    child.kill("SIGTERM");
    const [exitCode] = await once(child, "exit");
    expect(exitCode).toBe(0);
    expect(await Promise.all(codes)).toEqual([1001, 1001, 1001]);
  });

  it("closes thousands of connections with 1001 on SIGTERM and exits 0", async () => {
    const { child, url } = await startChild([], { CHAT_MAX_CONNECTIONS_PER_IP: "5000" });
    const sockets = await Promise.all(
      Array.from({ length: 2000 }, () => new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.once("message", () => resolve(ws));
        ws.once("error", reject);
      })),
    );
    const codes = sockets.map((ws) => new Promise<number>((resolve) => ws.once("close", (code) => resolve(code))));
    child.kill("SIGTERM");
    const [exitCode] = await once(child, "exit");
    expect(exitCode).toBe(0);
    expect(new Set(await Promise.all(codes))).toEqual(new Set([1001]));
    // 2,000 handshakes take a few seconds on a busy 2-core machine.
  }, 30_000);

  it("exits 0 on SIGINT too", async () => {
    const { child } = await startChild();
    child.kill("SIGINT");
    const [exitCode] = await once(child, "exit");
    expect(exitCode).toBe(0);
  });

  it("refuses a bad option with a one-line message and exit code 2", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--port", "x"], {
      cwd: new URL("..", import.meta.url),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const [exitCode] = await once(child, "exit");
    expect(exitCode).toBe(2);
    expect(stderr.trim()).toBe('chat-server: --port must be an integer from 0 to 65535; received "x"');
  });
});
