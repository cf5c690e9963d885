/**
 * A real full disk: the server's SQLite file on a small tmpfs that a filler file
 * fills up. Needs root (to mount); skipped with a message otherwise.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient, ChatError } from "../src/client/index.js";
import { DEFAULTS } from "../src/config.js";
import { startServer } from "../src/server/httpServer.js";
import { httpUrl, rejection } from "./helpers/server.js";

const dir = mkdtempSync(join(tmpdir(), "chat-full-"));
let mounted = false;
let why = "";
beforeAll(() => {
  if (process.getuid?.() !== 0) {
    why = "not root, so no tmpfs can be mounted";
    return;
  }
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", dir]);
    mounted = true;
  } catch (err) {
    why = `mount failed: ${(err as Error).message.split("\n")[0]}`;
  }
});
afterAll(() => {
  if (mounted) execFileSync("umount", ["-l", dir]);
  rmSync(dir, { recursive: true, force: true });
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe("a full disk", () => {
  it("makes the server read-only with unavailable, keeps reads and connections, and recovers when space returns", async (ctx) => {
    if (!mounted) {
      console.warn(`skipped: the full-disk test needs a tmpfs (${why})`);
      ctx.skip();
    }
    const db = join(dir, "chat.db");
    const server = await startServer({ options: { ...DEFAULTS, port: 0, host: "127.0.0.1", db }, logger: pino({ level: "silent" }) });
    const [a, b] = [await ChatClient.connect(server.url, { WebSocket }), await ChatClient.connect(server.url, { WebSocket })];
    try {
      const { room } = await a.request("create_room", { room_name: "kept" });
      await b.request("choose_room", { room_id: room.id });
      const acknowledged: string[] = [];
      for (let i = 0; i < 3; i++) acknowledged.push((await a.request("send_message", { room_id: room.id, message: `before ${i}` })).message.id);

      // Fill what is left of the 16 MiB; then every write needs pages the disk does not have.
      const filler = join(dir, "filler");
      try {
        writeFileSync(filler, Buffer.alloc(32 * 1024 * 1024));
      } catch {
        // ENOSPC: it took what there was.
      }
      let refusal: ChatError | undefined;
      const text = "x".repeat(3900);
      for (let i = 0; i < 2000 && !refusal; i++) {
        try {
          acknowledged.push((await a.request("send_message", { room_id: room.id, message: text })).message.id);
        } catch (err) {
          refusal = err as ChatError;
        }
      }
      expect(refusal).toBeInstanceOf(ChatError);
      expect(refusal!.code).toBe("unavailable");
      expect(refusal!.details?.retry_after_ms).toBeGreaterThanOrEqual(0);
      expect(server.hub.unavailable).toMatch(/read-only/);
      expect((await fetch(httpUrl(server, "/readyz"))).status).toBe(503);
      // Reads and the connections go on.
      const page = await b.request("history", { room_id: room.id, limit: 100 });
      expect(page.messages.length).toBeGreaterThan(0);
      expect((await b.request("ping")).ts).toBeTypeOf("string");
      expect((await rejection(a.request("create_room", { room_name: "later" }))).code).toBe("unavailable");

      rmSync(filler, { force: true });
      await until(() => server.hub.unavailable === undefined);
      const after = await a.request("send_message", { room_id: room.id, message: "after" });
      acknowledged.push(after.message.id);
      expect(a.closed).toBeNull();
      expect(b.closed).toBeNull();
      // Every acknowledged message is stored, once, in order.
      const stored: string[] = [];
      let before: string | undefined;
      for (;;) {
        const p = await b.request("history", before ? { room_id: room.id, limit: 100, before } : { room_id: room.id, limit: 100 });
        stored.unshift(...p.messages.map((m) => m.id));
        if (!p.has_more) break;
        before = p.messages[0]!.id;
      }
      expect(stored).toEqual(acknowledged);
    } finally {
      a.close();
      b.close();
      await server.close();
    }
  });
});
