/**
 * The `send_message` requests the app is waiting on. Each carries a `client_msg_id`
 * (the app's, or one made here), so sending it again can never store it twice: the
 * server answers a repeat with the original message. A send whose connection drops
 * before the reply is kept, as is one made while the client is reconnecting (up to
 * `MAX_QUEUED` of them); once the client is signed back into the same account they
 * are sent again, one at a time and in order, waiting out `rate_limited` and
 * `unavailable`. They reject with `disconnected` when the client closes for good or
 * comes back as another account.
 */
import type { ReplyDataMap, RequestDataMap } from "../protocol/wire.generated.js";
import { retryAfter } from "./catchUp.js";
import { ChatError } from "./errors.js";

type Send = RequestDataMap["send_message"];
type Reply = ReplyDataMap["send_message"];

/** Sends made while reconnecting beyond this many waiting ones reject at once with `disconnected`. */
export const MAX_QUEUED = 100;

export interface OutboxHost {
  /** Sends on the live connection; rejects with `disconnected` if it drops first, `timeout`, or the server's error. */
  send(data: Send): Promise<Reply>;
  sleep(ms: number): Promise<void>;
  /** The account the client is signed into now. */
  account(): string | null;
}

interface Entry {
  data: Send & { client_msg_id: string };
  /** The account it was sent as: it is never sent as another one. */
  account: string;
  inFlight: boolean;
  settled: boolean;
  resolve: (reply: Reply) => void;
  reject: (err: ChatError) => void;
}

/**
 * - `direct`: connected and signed in, nothing waiting: each send goes at once (pipelined);
 * - `held`: the connection is down: sends wait;
 * - `draining`: signed back in: the waiting sends go one at a time, new ones queue behind.
 */
type Mode = "direct" | "held" | "draining";

export class Outbox {
  readonly #host: OutboxHost;
  /** Unanswered sends, oldest first. */
  readonly #entries: Entry[] = [];
  #mode: Mode = "direct";
  /** Bumped whenever a drain must stop (a drop, a failure). */
  #run = 0;
  /** The client_msg_ids of the sends unanswered at a drop or made since: the catch-up may meet their messages. */
  readonly #sinceDrop = new Set<string>();

  constructor(host: OutboxHost) {
    this.#host = host;
  }

  /** Sends now when connected and nothing waits, queues it otherwise; rejects when too many already wait while disconnected. */
  submit(data: Send, account: string): Promise<Reply> {
    const full = { ...data, client_msg_id: data.client_msg_id ?? newClientMsgId() } as Entry["data"];
    return new Promise<Reply>((resolve, reject) => {
      if (this.#mode === "held" && this.#entries.length >= MAX_QUEUED) {
        const message = `Not connected (reconnecting), and ${MAX_QUEUED} sends already wait for the connection: send_message was not queued.`;
        reject(new ChatError({ code: "disconnected", message, request: "send_message" }));
        return;
      }
      const entry: Entry = { data: full, account, inFlight: false, settled: false, resolve, reject };
      this.#entries.push(entry);
      if (this.#mode !== "direct") this.#sinceDrop.add(full.client_msg_id);
      if (this.#mode === "direct") this.#sendDirect(entry);
    });
  }

  /** True for a message this client sent (or is sending) since the last drop: the app gets it from its promise. */
  isOwn(clientMsgId: string | undefined): boolean {
    return clientMsgId !== undefined && this.#sinceDrop.has(clientMsgId);
  }

  /** The catch-up is complete: nothing it reads can be one of those sends any more. */
  forgetOwn(): void {
    this.#sinceDrop.clear();
  }

  /** The connection dropped and the client will reconnect: sends in flight are kept, new ones wait. */
  hold(): void {
    this.#run += 1;
    this.#mode = "held";
    for (const e of this.#entries) this.#sinceDrop.add(e.data.client_msg_id);
  }

  /** Signed back in: send what waits, in order, then go back to sending at once. */
  resume(): void {
    const run = ++this.#run;
    this.#mode = "draining";
    void this.#drain(run);
  }

  /** Rejects every waiting send with `disconnected` (closed for good, or another account). */
  fail(message: string): void {
    this.#run += 1;
    this.#mode = "direct";
    this.#sinceDrop.clear();
    for (const e of [...this.#entries]) this.#settle(e, new ChatError({ code: "disconnected", message, request: "send_message" }));
  }

  #sendDirect(entry: Entry): void {
    entry.inFlight = true;
    this.#host.send(entry.data).then(
      (reply) => this.#settle(entry, reply),
      (err: ChatError) => {
        entry.inFlight = false;
        // Dropped while the client reconnects: kept, and sent again once it is back.
        if (err.code === "disconnected" && this.#mode === "held") return;
        this.#settle(entry, err);
      },
    );
  }

  async #drain(run: number): Promise<void> {
    for (;;) {
      if (run !== this.#run) return;
      const entry = this.#entries.find((e) => !e.inFlight);
      if (!entry) {
        this.#mode = "direct";
        return;
      }
      if (entry.account !== this.#host.account()) {
        this.#settle(entry, new ChatError({ code: "disconnected", message: "The client is signed into another account now: send_message was not sent again.", request: "send_message" }));
        continue;
      }
      entry.inFlight = true;
      try {
        this.#settle(entry, await this.#host.send(entry.data));
      } catch (e) {
        entry.inFlight = false;
        const err = e as ChatError;
        if (entry.settled || run !== this.#run) continue;
        // Dropped again: it waits for the next resume.
        if (err.code === "disconnected") return;
        if (err.code === "rate_limited" || err.code === "unavailable") {
          await this.#host.sleep(retryAfter(err));
          continue;
        }
        this.#settle(entry, err);
      }
    }
  }

  #settle(entry: Entry, result: Reply | ChatError): void {
    if (entry.settled) return;
    entry.settled = true;
    const at = this.#entries.indexOf(entry);
    if (at >= 0) this.#entries.splice(at, 1);
    if (result instanceof ChatError) entry.reject(result);
    else entry.resolve(result);
  }
}

/**
 * A new client_msg_id: a UUID version 7 (the time in ms, then random bits), so that ids
 * rise with time and the server's index of them grows at its end rather than on a random
 * page. Random from crypto.getRandomValues where the platform has it, else Math.random.
 */
export function newClientMsgId(now = Date.now()): string {
  const bytes = new Uint8Array(16);
  const c = (globalThis as { crypto?: Partial<Crypto> }).crypto;
  if (typeof c?.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  for (let i = 5, t = now; i >= 0; i--, t = Math.floor(t / 256)) bytes[i] = t % 256;
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
