/**
 * The connection to the server. The SDK reconnects by itself (and resends and catches
 * up); this adds what a person needs around it: a countdown to the next attempt,
 * "Retry now", and retrying the very first connection, which the SDK leaves to the app.
 *
 * The SDK has no "reconnect now" call, so "Retry now" opens a fresh client: if it
 * reaches the server, it replaces the old one (whose waiting sends are handed back to
 * the page's sender and go out again with the same client_msg_id) and the page signs
 * in again as on a reload. If the old client reconnects first, the fresh one is closed.
 */
import { backoffDelay, backoffOptions, ChatClient, type ReconnectOptions } from "../../src/client/index.js";
import type { Store } from "../store.js";

/**
 * Shorter waits than the SDK's defaults (at most 5 s instead of 10 s), so that the page
 * is back soon after the server is; the jitter still spreads many pages apart.
 */
export const RECONNECT: ReconnectOptions = { initialDelayMs: 500, maxDelayMs: 5000 };
/** A connection attempt that has not been welcomed in this long counts as failed. */
const CONNECT_TIMEOUT_MS = 10_000;

type Sub = [event: string, fn: (...args: never[]) => void];

export class Connection {
  readonly #url: string;
  readonly #store: Store;
  /** Called with each client the page takes up: the first, and each that replaces one. */
  readonly #onClient: (client: ChatClient) => Promise<void>;
  #client: ChatClient | null = null;
  readonly #subs: Sub[] = [];
  #offs: (() => void)[] = [];
  /** The page's own retry loop, used while it has no client at all. */
  #timer: ReturnType<typeof setTimeout> | null = null;
  #attempt = 0;
  #trying = false;

  constructor(url: string, store: Store, onClient: (client: ChatClient) => Promise<void>) {
    this.#url = url;
    this.#store = store;
    this.#onClient = onClient;
  }

  get client(): ChatClient | null {
    return this.#client;
  }

  /** Listens to an event of this client and of every later one. */
  on(event: string, fn: (...args: never[]) => void): void {
    this.#subs.push([event, fn]);
    if (this.#client) this.#offs.push((this.#client.on as (e: string, f: (...a: never[]) => void) => () => void).call(this.#client, event, fn));
  }

  async start(): Promise<void> {
    await this.#try();
  }

  /** "Retry now": try at once, whatever the countdown says. */
  async retryNow(): Promise<void> {
    if (this.#trying || this.#client?.state === "open") return;
    this.#store.dispatch({ type: "manualRetry", phase: "trying" });
    const ok = await this.#try();
    if (!ok) this.#store.dispatch({ type: "manualRetry", phase: "failed" });
  }

  async #try(): Promise<boolean> {
    if (this.#trying) return false;
    this.#trying = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    try {
      const fresh = await connectWithin(this.#url, CONNECT_TIMEOUT_MS);
      if (this.#client?.state === "open") {
        // The old client made it back by itself meanwhile: keep it.
        fresh.close(1000, "not needed");
        return true;
      }
      this.#attempt = 0;
      await this.#adopt(fresh);
      return true;
    } catch {
      if (!this.#client || this.#client.state === "closed") this.#scheduleOwn();
      return false;
    } finally {
      this.#trying = false;
    }
  }

  async #adopt(client: ChatClient): Promise<void> {
    for (const off of this.#offs) off();
    this.#offs = [];
    const old = this.#client;
    this.#client = client;
    const on = (client.on as (e: string, f: (...a: never[]) => void) => () => void).bind(client);
    this.#offs.push(
      client.on("state", (change) => {
        this.#store.dispatch({ type: "connection", state: change.state, attempt: change.attempt, delayMs: change.delayMs, now: Date.now() });
        if (change.state === "closed" && this.#client === client) this.#scheduleOwn();
      }),
    );
    for (const [event, fn] of this.#subs) this.#offs.push(on(event, fn));
    // Its pending requests reject with `disconnected`; the sender knows they were the old client's.
    old?.close(1000, "replaced by a new connection");
    this.#store.dispatch({ type: "connection", state: "open", now: Date.now() });
    await this.#onClient(client);
  }

  /** While there is no live client: the page tries again itself, with the SDK's backoff. */
  #scheduleOwn(): void {
    if (this.#timer !== null) return;
    this.#attempt += 1;
    const delayMs = backoffDelay(this.#attempt, backoffOptions(RECONNECT));
    this.#store.dispatch({ type: "connection", state: "reconnecting", attempt: this.#attempt, delayMs, now: Date.now() });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#try();
    }, delayMs);
  }
}

function connectWithin(url: string, ms: number): Promise<ChatClient> {
  const connecting = ChatClient.connect(url, { reconnect: RECONNECT });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Should it still get through, it is not wanted.
      void connecting.then((c) => c.close(1000, "too late"), () => undefined);
      reject(new Error("timed out"));
    }, ms);
  });
  return Promise.race([connecting, late]).finally(() => clearTimeout(timer));
}
