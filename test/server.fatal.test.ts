/** A commit that fails (disk full, I/O error): no reply may claim what was not stored. */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient } from "../src/client/index.js";
import { DEFAULTS } from "../src/config.js";
import { startServer } from "../src/server/httpServer.js";
import { MemoryStore } from "../src/store/memoryStore.js";

class FailingStore extends MemoryStore {
  failing = false;
  override commit(): void {
    if (this.failing) throw new Error("disk I/O error");
    super.commit();
  }
}

describe("a failed commit", () => {
  it("sends no reply for what was not stored, closes every connection with 1011, and calls onFatal", async () => {
    const store = new FailingStore();
    const fatal: unknown[] = [];
    const server = await startServer({
      options: { ...DEFAULTS, port: 0, host: "127.0.0.1" },
      logger: pino({ level: "silent" }),
      store,
      onFatal: (err) => fatal.push(err),
    });
    const [a, b] = await Promise.all([1, 2].map(() => ChatClient.connect(server.url, { WebSocket })));
    const { room } = await a!.request("create_room", { room_name: "kept" });
    const closes = [a!, b!].map((c) => new Promise<number>((resolve) => c.on("close", (ev) => resolve(ev.code))));
    const seen: string[] = [];
    b!.on("frame", (f) => seen.push(f.event));

    store.failing = true;
    const lost = a!.request("send_message", { room_id: room.id, message: "not stored" });
    await expect(lost).rejects.toMatchObject({ code: "disconnected" });
    expect(await Promise.all(closes)).toEqual([1011, 1011]);
    expect(fatal).toHaveLength(1);
    expect(seen).not.toContain("message");
    expect(store.page(room.id, 10).messages).toEqual([]);
    // Nothing more is applied or sent, even if the disk comes back.
    store.failing = false;
    server.hub.flush();
    expect(store.page(room.id, 10).messages).toEqual([]);
    expect(fatal).toHaveLength(1);
    await server.close();
    expect(store.page(room.id, 10).messages).toEqual([]);
  });
});
