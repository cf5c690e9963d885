/**
 * The outbox on its own, with fake peers and a fake store's commit: what a batch sends goes
 * out only after the commit of what was applied before it, within the commit window or at a
 * flush; a read answered meanwhile is built after that commit; a failed commit turns a
 * write's held deliveries into one `unavailable` answer echoing the request's ref. A commit
 * that finishes later (the store's fsync off the event loop) holds what was applied meanwhile
 * for the next one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Peer } from "../src/server/connection.js";
import { Outbox, type Cause, type Committer } from "../src/server/outbox.js";

/** A store that counts its commits; `onCommit` stands for what the hub does when a commit fails (roll the outbox back, or stop it). */
class FakeStore implements Committer {
  commits = 0;
  #changes = 0;
  onCommit: (() => void) | undefined;
  /** Set: each commit finishes only when `finish` is called, as the hub's does when the store syncs off the event loop. */
  later = false;
  started = 0;
  #finish: Array<() => void> = [];
  write(): void {
    this.#changes++;
  }
  written(): boolean {
    return this.#changes > 0;
  }
  pending(): boolean {
    return this.written();
  }
  commit(): void | Promise<void> {
    this.started++;
    this.#changes = 0;
    if (!this.later) {
      this.commits++;
      this.onCommit?.();
      return;
    }
    return new Promise<void>((resolve) =>
      this.#finish.push(() => {
        this.commits++;
        this.onCommit?.();
        resolve();
      }),
    );
  }
  /** Finishes the commit under way and lets the outbox act on it. */
  async finish(): Promise<void> {
    this.#finish.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
}

/** Each frame with the number of commits made before it was sent. */
type FakePeer = Peer & { sent: Array<{ text: string; commits: number }> };

function fakePeer(store: FakeStore): FakePeer {
  const sent: FakePeer["sent"] = [];
  return { sent, send: (text) => sent.push({ text, commits: store.commits }), close() {} };
}

/** An outbox with the given commit window over a fake store, the peers of connections `a` and `b`, and `batch`: applies a batch that writes and sends `text` to `a`. */
function setUp(windowMs: number) {
  const store = new FakeStore();
  const [a, b] = [fakePeer(store), fakePeer(store)];
  const peers: Record<string, Peer> = { a, b };
  const afterCommits: boolean[] = [];
  const outbox = new Outbox({ committer: store, windowMs, peerOf: (conn) => peers[conn], delivered() {}, afterCommit: (everything) => afterCommits.push(everything) });
  const batch = (text?: string) =>
    outbox.apply(() => {
      store.write();
      if (text !== undefined) outbox.send([a], text, { conn: "a", request: "send_message", ref: 1 });
    });
  return { store, a, b, outbox, batch, afterCommits };
}

const texts = (peer: FakePeer) => peer.sent.map((s) => s.text);

describe("the outbox", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends at once while nothing waits for a commit, and holds what a batch sends until that batch is committed", () => {
    const { store, a: peer, outbox } = setUp(0);
    outbox.send([peer], "before");
    outbox.apply(() => {
      // Sent before the batch wrote anything: it still follows the batch's commit.
      outbox.send([peer], "push");
      store.write();
      outbox.send([peer], "reply", { conn: "a", request: "send_message", ref: 1 });
      expect(texts(peer)).toEqual(["before"]);
    });
    expect(peer.sent).toEqual([
      { text: "before", commits: 0 },
      { text: "push", commits: 1 },
      { text: "reply", commits: 1 },
    ]);
  });

  it("within the commit window holds later batches until it closes, then commits them together and sends", () => {
    const { store, a: peer, batch } = setUp(50);
    batch("first");
    expect(peer.sent).toEqual([{ text: "first", commits: 1 }]);
    vi.advanceTimersByTime(10);
    batch("second");
    vi.advanceTimersByTime(10);
    batch("third");
    expect(store.commits).toBe(1);
    expect(texts(peer)).toEqual(["first"]);
    vi.advanceTimersByTime(30);
    expect(store.commits).toBe(2);
    expect(peer.sent.slice(1)).toEqual([
      { text: "second", commits: 2 },
      { text: "third", commits: 2 },
    ]);
  });

  it("builds a read answered while a write waits only after the write's commit, and sends it after the write's reply", () => {
    const { store, a: peer, outbox, batch } = setUp(50);
    batch();
    batch("reply");
    expect(outbox.waiting).toBe(true);
    outbox.send([peer], () => `read after ${store.commits} commits`);
    expect(peer.sent).toEqual([]);
    vi.advanceTimersByTime(50);
    expect(texts(peer)).toEqual(["reply", "read after 2 commits"]);
  });

  it("at a flush commits and sends at once what waits for the window", () => {
    const { a: peer, outbox, batch } = setUp(60_000);
    batch();
    batch("waits");
    expect(peer.sent).toEqual([]);
    void outbox.flush();
    expect(peer.sent).toEqual([{ text: "waits", commits: 2 }]);
  });

  it("after a failed commit answers each write's requester unavailable once, with its ref, sends nothing the write caused, and still sends reads", () => {
    const { store, a: pa, b: pb, outbox } = setUp(0);
    const lost: Cause[] = [];
    store.onCommit = () => lost.push(...outbox.rollBack("disk full", 100));
    const write: Cause = { conn: "a", request: "create_room", ref: 7 };
    outbox.apply(() => {
      store.write();
      outbox.send([pa, pb], "room_created push", write);
      outbox.send([pa], "create_room reply", write);
      outbox.send([pb], "a read");
    });
    expect(lost).toEqual([write]);
    expect(pa.sent.map((s) => JSON.parse(s.text) as unknown)).toEqual([
      {
        event: "error",
        data: expect.objectContaining({ code: "unavailable", request: "create_room", details: { retry_after_ms: 100 } }),
        ref: 7,
      },
    ]);
    expect(texts(pb)).toEqual(["a read"]);
  });

  it("with a commit that finishes later, sends what it holds when it does, and holds what was applied meanwhile for the next commit, started only then", async () => {
    const { store, a: peer, outbox, batch, afterCommits } = setUp(0);
    store.later = true;
    batch("first");
    batch("second");
    outbox.send([peer], () => `read after ${store.commits} commits`);
    expect(store.started).toBe(1);
    expect(peer.sent).toEqual([]);
    await store.finish();
    expect(peer.sent).toEqual([{ text: "first", commits: 1 }]);
    expect(afterCommits).toEqual([false]);
    expect(store.started).toBe(2);
    await store.finish();
    expect(peer.sent.slice(1)).toEqual([
      { text: "second", commits: 2 },
      { text: "read after 2 commits", commits: 2 },
    ]);
    expect(afterCommits).toEqual([false, true]);
    outbox.send([peer], "now");
    expect(texts(peer).at(-1)).toBe("now");
  });

  it("when a commit that finishes later fails, answers unavailable to what it held and to what was applied after it", async () => {
    const { store, a: peer, outbox } = setUp(0);
    store.later = true;
    const lost: Cause[] = [];
    const first: Cause = { conn: "a", request: "send_message", ref: 1 };
    const second: Cause = { conn: "a", request: "send_message", ref: 2 };
    outbox.apply(() => {
      store.write();
      outbox.send([peer], "first reply", first);
    });
    outbox.apply(() => {
      store.write();
      outbox.send([peer], "second reply", second);
    });
    // As the hub does: the batch applied after the failed one goes with it.
    store.onCommit = () => {
      lost.push(...outbox.rollBack("disk full", 100));
      store.commit = () => expect.fail("nothing is left to commit");
      store.pending = () => false;
    };
    await store.finish();
    expect(lost).toEqual([first, second]);
    expect(peer.sent.map((s) => (JSON.parse(s.text) as { event: string; ref: number }).ref)).toEqual([1, 2]);
    expect(peer.sent.every((s) => s.text.includes('"unavailable"'))).toBe(true);
  });

  it("at a flush waits for the commit under way, then commits and sends what came after it", async () => {
    const { store, a: peer, outbox, batch } = setUp(60_000);
    store.later = true;
    batch("first");
    batch("second");
    const flushed = outbox.flush();
    await store.finish();
    expect(texts(peer)).toEqual(["first"]);
    expect(store.started).toBe(2);
    let done = false;
    void flushed.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    await store.finish();
    await flushed;
    expect(texts(peer)).toEqual(["first", "second"]);
  });

  it("once stopped (memory ahead of the disk) sends nothing it held or is given later", () => {
    const { store, a: peer, outbox, batch } = setUp(0);
    store.onCommit = () => outbox.stop();
    batch("lost");
    outbox.send([peer], "later");
    expect(peer.sent).toEqual([]);
  });
});
