/** One contract for both CommandLogs: the in-process one (a single server) and the Redis Stream (a cluster). */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command } from "../src/core/commands.js";
import type { CommandLog, LogEntry } from "../src/log/commandLog.js";
import { InProcessLog } from "../src/log/inProcessLog.js";
import { compareEntryIds } from "../src/log/positions.js";
import { RedisLog } from "../src/log/redisLog.js";
import { startRedis, type TestRedis } from "./helpers/redis.js";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

let prefixes = 0;
const fresh = { position: undefined, empty: true, rules: "{}" };

/** Opens a log of the kind under test, following from `after`; each call of one test shares that test's log. */
type Opener = (after?: string) => Promise<{ log: CommandLog; seen: LogEntry[] }>;

async function follow(log: CommandLog, after: string | undefined): Promise<{ log: CommandLog; seen: LogEntry[] }> {
  const seen: LogEntry[] = [];
  // Entries without commands carry nothing to apply (the Redis log begins with one).
  log.follow(after, (entries) => seen.push(...entries.filter((e) => e.commands.length > 0)));
  return { log, seen };
}

const ping = (n: number): Command => ({ type: "ping", conn: "n/1", ts: "", ref: n });

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe.each([
  ["in-process", (): Opener => {
    let shared: InProcessLog | undefined;
    return async (after) => follow((shared ??= new InProcessLog(after)), after);
  }],
  ["Redis Stream", (): Opener => {
    const prefix = `contract${++prefixes}:`;
    return async (after) =>
      follow(await RedisLog.open({ url: redis.url, prefix, maxlen: 0, timeoutMs: 2000, nodeTtlMs: 10_000, logger: pino({ level: "silent" }) }, fresh), after);
  }],
] as const)("the %s log", (_name, opener) => {
  it("delivers every entry once, in the order appended, with rising ids and its content intact", async () => {
    const open = opener();
    const { log, seen } = await open();
    for (let i = 0; i < 20; i++) await log.append({ node: "n", batch: i, deadline: 1e15, commands: [ping(i), ping(i + 100)] });
    await until(() => seen.length === 20);
    expect(seen.map((e) => e.batch)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(seen[3]).toMatchObject({ node: "n", batch: 3, deadline: 1e15, commands: [ping(3), ping(103)] });
    for (let i = 1; i < seen.length; i++) expect(compareEntryIds(seen[i - 1]!.id, seen[i]!.id)).toBeLessThan(0);
    expect(await log.head()).toBe(seen[19]!.id);
    await log.close();
  });

  it("gives a follower starting at a position only what comes after it", async () => {
    const open = opener();
    const first = await open();
    for (let i = 0; i < 3; i++) await first.log.append({ node: "n", batch: i, deadline: 1e15, commands: [ping(i)] });
    await until(() => first.seen.length === 3);
    const at = first.seen[2]!.id;
    const second = await open(at);
    await second.log.append({ node: "m", batch: 7, deadline: 1e15, commands: [ping(7)] });
    await until(() => second.seen.length === 1);
    expect(second.seen.map((e) => e.batch)).toEqual([7]);
    expect(compareEntryIds(second.seen[0]!.id, at)).toBeGreaterThan(0);
    await first.log.close();
    if (second.log !== first.log) await second.log.close();
  });

  it("gives every follower the same order when several append at once", async () => {
    const open = opener();
    const [a, b] = [await open(), await open()];
    await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => a.log.append({ node: "a", batch: i, deadline: 1e15, commands: [ping(i)] })),
      ...Array.from({ length: 30 }, (_, i) => b.log.append({ node: "b", batch: i, deadline: 1e15, commands: [ping(i)] })),
    ]);
    await until(() => a.seen.length === 60 && b.seen.length === 60);
    const order = (seen: LogEntry[]) => seen.map((e) => `${e.node}${e.batch}`);
    expect(order(b.seen)).toEqual(order(a.seen));
    // Each appender's entries keep the order it appended them in.
    expect(order(a.seen).filter((x) => x.startsWith("a"))).toEqual(Array.from({ length: 30 }, (_, i) => `a${i}`));
    await a.log.close();
    if (b.log !== a.log) await b.log.close();
  });
});
