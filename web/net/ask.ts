/**
 * Requests through the SDK where a short `rate_limited` or `unavailable` is waited out
 * and asked again (a few times) instead of being shown; a long wait is shown (it says
 * how long), so that nothing the person clicked hangs without a word.
 */
import { ChatError, type ChatClient, type ReplyDataMap, type RequestArgs, type RequestEvent } from "../../src/client/index.js";

const TRIES = 5;
/** Waits longer than this are the person's to know about. */
const QUIET_WAIT_MS = 5000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The wait a `rate_limited` or `unavailable` error asks for (1 s when it does not say). */
export function waitOf(err: unknown): number | null {
  if (!(err instanceof ChatError) || (err.code !== "rate_limited" && err.code !== "unavailable")) return null;
  const ms = err.details?.retry_after_ms;
  return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 30_000) : 1000;
}

export async function ask<E extends RequestEvent>(client: ChatClient | null, event: E, ...args: RequestArgs<E>): Promise<ReplyDataMap[E]> {
  if (!client) throw new ChatError({ code: "disconnected", message: `Not connected: ${event} was not sent.`, request: event });
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.request(event, ...args);
    } catch (err) {
      const wait = waitOf(err);
      if (wait === null || wait > QUIET_WAIT_MS || attempt >= TRIES) throw err;
      await sleep(wait + 20);
    }
  }
}
