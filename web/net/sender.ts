/**
 * Sends what the person wrote, from the outbox in the state. Each message carries its
 * own `client_msg_id` from the moment it is written, on every try, so the server can
 * never store it twice (a repeat gets the original back).
 *
 * One message at a time per conversation, so that they arrive in the order written
 * even when one has to wait (a message refused for going too fast and sent again
 * would otherwise land after the next one). Going too fast and a server that cannot
 * store for a moment are waited out, not shown as failures; anything else marks the
 * message failed, with the reason and a Retry button.
 */
import type { ChatClient, RequestDataMap } from "../../src/client/index.js";
import { ChatError } from "../../src/client/index.js";
import { parseKey } from "../model/keys.js";
import type { Outgoing } from "../model/state.js";
import type { Store } from "../store.js";
import { reason } from "../text/errors.js";
import { waitOf } from "./ask.js";

/** `unavailable` is waited out this many times before the message shows as failed. */
const UNAVAILABLE_TRIES = 3;

function request(o: Outgoing): RequestDataMap["send_message"] | null {
  const t = parseKey(o.key);
  if (!t) return null;
  if (t.kind === "dm") return { user_id: t.id, message: o.text, client_msg_id: o.id };
  return { room_id: t.kind === "lobby" ? "all" : t.id, message: o.text, client_msg_id: o.id };
}

export class Sender {
  readonly #store: Store;
  readonly #client: () => ChatClient | null;
  /** The client each message in flight was handed to. */
  readonly #inFlight = new Map<string, ChatClient>();
  readonly #unavailable = new Map<string, number>();
  /** Until then nothing is sent: the server said to slow down. */
  #pausedUntil = 0;
  #pauseTimer: ReturnType<typeof setTimeout> | null = null;
  /** A send found the page offline: nothing more goes until the connection is open again. */
  #waitOpen = false;

  constructor(store: Store, client: () => ChatClient | null) {
    this.#store = store;
    this.#client = client;
  }

  /** Sends the next waiting message of each conversation that has none on its way. */
  pump(): void {
    const client = this.#client();
    if (!client || client.state === "closed" || client.state === "connecting") return;
    if (Date.now() < this.#pausedUntil) return;
    if (this.#waitOpen) {
      if (client.state !== "open") return;
      this.#waitOpen = false;
    }
    const busy = new Set<string>();
    for (const o of this.#store.state.outbox) if (o.status === "sending") busy.add(o.key);
    for (const o of this.#store.state.outbox) {
      if (o.status !== "queued" || busy.has(o.key)) continue;
      busy.add(o.key);
      this.#send(client, o);
    }
  }

  #send(client: ChatClient, o: Outgoing): void {
    const data = request(o);
    if (!data) {
      this.#store.dispatch({ type: "discard", id: o.id });
      return;
    }
    this.#inFlight.set(o.id, client);
    this.#store.dispatch({ type: "sending", id: o.id });
    client.request("send_message", data).then(
      (reply) => {
        this.#inFlight.delete(o.id);
        this.#unavailable.delete(o.id);
        this.#store.dispatch({ type: "sent", id: o.id, message: reply.message });
        this.pump();
      },
      (err: unknown) => {
        this.#inFlight.delete(o.id);
        this.#failed(client, o, err);
        this.pump();
      },
    );
  }

  #failed(client: ChatClient, o: Outgoing, err: unknown): void {
    // Offline is not a failure: the message waits and goes once the connection is back
    // (the SDK keeps sends across a drop itself; this covers a client the page replaced
    // with "Retry now", and one that closed for good).
    if (err instanceof ChatError && err.code === "disconnected") {
      this.#waitOpen = client === this.#client() || this.#client()?.state !== "open";
      this.#store.dispatch({ type: "requeue", id: o.id });
      return;
    }
    const wait = waitOf(err);
    const code = err instanceof ChatError ? err.code : null;
    const tries = (this.#unavailable.get(o.id) ?? 0) + (code === "unavailable" ? 1 : 0);
    if (wait !== null && (code === "rate_limited" || tries < UNAVAILABLE_TRIES)) {
      if (code === "unavailable") this.#unavailable.set(o.id, tries);
      this.#store.dispatch({ type: "requeue", id: o.id });
      this.#pause(wait);
      return;
    }
    this.#unavailable.delete(o.id);
    this.#store.dispatch({ type: "sendFailed", id: o.id, error: sentence(err) });
  }

  #pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + ms + 20);
    if (this.#pauseTimer !== null) clearTimeout(this.#pauseTimer);
    this.#pauseTimer = setTimeout(() => {
      this.#pauseTimer = null;
      this.pump();
    }, this.#pausedUntil - Date.now());
  }
}

function sentence(err: unknown): string {
  if (err instanceof ChatError) {
    if (err.code === "timeout") return "the server did not answer in time. It may have arrived: Retry cannot send it twice.";
    if (err.code === "not_found") return "this person's account no longer exists.";
  }
  const r = reason(err);
  return r.charAt(0).toLowerCase() + r.slice(1);
}
