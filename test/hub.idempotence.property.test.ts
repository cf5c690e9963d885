/**
 * Property: sends with client ids, repeated in any interleaving over an account's
 * connections, split over any number of event-loop turns (and so batches), store each
 * client id once, and every repeat is answered with the message first stored for it.
 */
import fc from "fast-check";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../src/config.js";
import { compileValidators } from "../src/protocol/schemas.js";
import { Hub, type Peer } from "../src/server/hub.js";
import { MemoryStore } from "../src/store/memoryStore.js";

type Frame = { event: string; data: { message?: { id: string; client_msg_id?: string; text: string } }; ref?: number };

function fakePeer(): Peer & { frames: Frame[] } {
  const frames: Frame[] = [];
  return { frames, send: (text) => frames.push(JSON.parse(text) as Frame), close() {} };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const validators = compileValidators();

/** A send: which of the account's connections, which client id, where, and whether a turn ends after it. */
const send = fc.record({ conn: fc.nat(2), cid: fc.constantFrom("a", "b", "c", "d"), lobby: fc.boolean(), endTurn: fc.boolean() });

describe("client_msg_id (property, through the hub)", () => {
  it("stores each client id once and answers every repeat with the first message, whatever the interleaving and the turns", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(send, { minLength: 1, maxLength: 25 }), async (sends) => {
        const store = new MemoryStore();
        const hub = new Hub({
          validators,
          store,
          logger: pino({ level: "silent" }),
          openAuth: true,
          limits: DEFAULTS,
          rate: { perSecond: 1e6, burst: 1e6, closeAfter: 1e6 },
          onFatal: (err) => {
            throw err;
          },
        });
        const peers = [fakePeer(), fakePeer(), fakePeer(), fakePeer()];
        const conns = peers.map((p) => hub.open(p));
        await turn();
        const owner = (peers[0]!.frames[0]!.data as unknown as { user: { id: string } }).user.id;
        // Three connections of one account, and a fourth account it writes to directly.
        for (const conn of conns.slice(1, 3)) hub.receive(conn, JSON.stringify({ event: "auth", data: { user_id: owner } }), false);
        await turn();
        const other = (peers[3]!.frames[0]!.data as unknown as { user: { id: string } }).user.id;
        let ref = 1000;
        for (const s of sends) {
          const data = s.lobby ? { room_id: "all", message: `to all ${s.cid}`, client_msg_id: s.cid } : { user_id: other, message: `to you ${s.cid}`, client_msg_id: s.cid };
          hub.receive(conns[s.conn]!, JSON.stringify({ event: "send_message", data, ref: ref++ }), false);
          if (s.endTurn) await turn();
        }
        await turn();
        hub.stop();
        const replies = peers.slice(0, 3).flatMap((p) => p.frames.filter((f) => f.ref !== undefined && f.ref >= 1000 && f.event === "send_message"));
        expect(replies).toHaveLength(sends.length);
        const first = new Map<string, string>();
        for (const r of replies.sort((x, y) => x.ref! - y.ref!)) {
          const m = r.data.message!;
          const known = first.get(m.client_msg_id!);
          if (known === undefined) first.set(m.client_msg_id!, m.id);
          else expect(m.id).toBe(known);
        }
        const stored = [...store.page("all", 100).messages, ...store.page(owner < other ? `dm:${owner}:${other}` : `dm:${other}:${owner}`, 100).messages];
        expect(stored.map((m) => m.client_msg_id).sort()).toEqual([...first.keys()].sort());
        expect(new Set(stored.map((m) => m.id))).toEqual(new Set(first.values()));
      }),
      { numRuns: 100 },
    );
  });
});
