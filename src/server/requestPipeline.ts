/**
 * The request pipeline: a frame from a connection passes the rate gates (the connection's
 * allowance, its address's bytes; typing notices pay from an allowance of their own), is
 * read (parsed, checked against its schema) and becomes an action: a read, answered in its
 * turn from what was applied before it, or a write, which, past the write gates (the store
 * or the log unavailable, the address's quotas), takes its place in line and goes to the
 * log. Every frame gets exactly one reply or error.
 */
import type { Logger } from "pino";
import type { Command } from "../core/commands.js";
import type { ChatState } from "../core/model.js";
import { CLOSE_CODES } from "../protocol/closeCodes.js";
import { errorData } from "../protocol/errors.js";
import { isRequestEvent, type RequestEvent } from "../protocol/events.js";
import { isValidRef, readFrame, type FrameLimits } from "../protocol/frame.js";
import type { Validators } from "../protocol/schemas.js";
import type { Ref } from "../protocol/wire.generated.js";
import { drawOf, type AddressQuotas } from "./addressQuotas.js";
import type { Connection, Peer, Ticket } from "./connection.js";
import { errorFrame, retryLater } from "./envelope.js";
import { toAction } from "./handlers.js";
import type { HubObserver } from "./hubObserver.js";
import { Minter } from "./identities.js";
import type { Read } from "./reads.js";

/** Why writes are refused for now, and when to try again. */
export type Refusal = { why: string; retryAfterMs: number };

export interface PipelineOptions {
  validators: Validators;
  limits: FrameLimits;
  openAuth: boolean;
  quotas: AddressQuotas;
  observer: Pick<HubObserver, "request">;
  logger: Logger;
  /** The state requests become actions against. */
  state(): ChatState;
  /** Why a write cannot be taken now (the store or the log unavailable); undefined while it can. */
  refusal(cmd: Command, now: number): Refusal | undefined;
  /** Answers a read; called in its turn, once the connection's earlier requests are answered. */
  read(c: Connection, read: Read): void;
  /** Puts a write in this turn's batch for the log; its ticket is answered once the log delivers it. */
  submit(cmd: Command, ticket: Ticket): void;
  /** Sends now, or after the commit of what was applied before (the outbox). */
  send(peers: Peer[], text: string): void;
}

/** Largest refused frame still parsed for its ref: beyond this, parsing would cost what the refusal saves. */
const GLANCE_BYTES = 4096;

/** The ref and request name of a frame that will not be read further, as far as they are valid. */
function glance(raw: string | Buffer, isBinary: boolean): { ref?: Ref; request?: string } {
  if (isBinary) return {};
  try {
    const parsed = JSON.parse(String(raw)) as { ref?: unknown; event?: unknown } | null;
    const found: { ref?: Ref; request?: string } = {};
    if (isValidRef(parsed?.ref)) found.ref = parsed.ref;
    if (typeof parsed?.event === "string" && isRequestEvent(parsed.event)) found.request = parsed.event;
    return found;
  } catch {
    // Not JSON: there is nothing to echo.
    return {};
  }
}

export class RequestPipeline {
  readonly #opts: PipelineOptions;

  constructor(opts: PipelineOptions) {
    this.#opts = opts;
  }

  /** Handles one frame from a connection. */
  receive(c: Connection, raw: string | Buffer, isBinary: boolean): void {
    const observer = this.#opts.observer;
    const now = performance.now();
    const admission = c.bucket.take(now);
    if (!admission.ok) return this.#refuse(c, raw, isBinary, admission.retryAfterMs, admission.flooding);
    const wait = this.#opts.quotas.inbound(c.client, raw.length, now);
    if (wait > 0) return this.#refuse(c, raw, isBinary, wait, c.bucket.refused(), "Your address sends more than its share");

    const frame = readFrame(raw, isBinary, this.#opts.validators, this.#opts.limits);
    if (!frame.ok) {
      // Only known event names become metric labels: a client must not be able to mint series.
      const request = frame.error.request;
      observer.request(request !== undefined && isRequestEvent(request) ? request : "invalid", frame.error.code);
      return this.#answer(c, errorFrame(frame.error, frame.ref));
    }
    const { event, data, ref } = frame.request;
    if (event === "typing") {
      // Paid for from an allowance of its own, so that typing never crowds out messages.
      c.bucket.refund(now);
      const wait = c.typing.wait(1, now);
      if (wait > 0) {
        observer.request(event, "rate_limited");
        return this.#answer(c, retryLater("rate_limited", event, `Too many typing notices; retry in ${wait} ms.`, wait, ref));
      }
      c.typing.spend(1, now);
    }
    const mint = new Minter();
    try {
      const action = toAction(event, data, { state: this.#opts.state(), conn: c.id, openAuth: this.#opts.openAuth, mint, ...(ref === undefined ? {} : { ref }) });
      switch (action.type) {
        case "history":
        case "conversations":
        case "show_rooms":
        case "room_members":
        case "ping":
          return c.inTurn(() => this.#opts.read(c, action));
        default:
          return this.#write(c, action, event, now, mint);
      }
    } catch (err) {
      observer.request(event, "internal");
      this.#opts.logger.error({ err, request: event, ref }, "request failed");
      this.#answer(c, errorFrame(errorData("internal", event), ref));
    }
  }

  /** A request that changes state, after the gates that may refuse it unapplied: the log or the store unavailable, then the address's quotas. */
  #write(c: Connection, cmd: Command, request: RequestEvent, now: number, minted: Minter): void {
    const ref = "ref" in cmd ? cmd.ref : undefined;
    const refusal = this.#opts.refusal(cmd, now);
    if (refusal) {
      const message = `The server cannot store changes right now (${refusal.why}); nothing was applied. Retry in ${refusal.retryAfterMs} ms.`;
      this.#opts.observer.request(request, "unavailable");
      return this.#answer(c, retryLater("unavailable", request, message, refusal.retryAfterMs, ref));
    }
    const quota = this.#opts.quotas.check(c.client, drawOf(this.#opts.state(), cmd), now);
    if (!quota.ok) {
      const made = quota.what === "accounts" ? "new accounts" : "new rooms";
      const message = `Too many ${made} from your address; retry in ${quota.retryAfterMs} ms.`;
      this.#opts.observer.request(request, "rate_limited");
      return this.#answer(c, retryLater("rate_limited", request, message, quota.retryAfterMs, ref));
    }
    const ticket: Ticket = { conn: cmd.conn, request, done: false, minted };
    if (ref !== undefined) ticket.ref = ref;
    c.join(ticket);
    this.#opts.submit(cmd, ticket);
  }

  #refuse(c: Connection, raw: string | Buffer, isBinary: boolean, retryAfterMs: number, flooding: boolean, why = "Too many requests"): void {
    // A refused frame is not read; only a small one is parsed, to echo its ref.
    const { ref, request } = raw.length <= GLANCE_BYTES ? glance(raw, isBinary) : {};
    this.#opts.observer.request(request ?? "invalid", "rate_limited");
    if (flooding) return c.peer.close(CLOSE_CODES.policy.code, "flooding");
    this.#answer(c, retryLater("rate_limited", request, `${why}; retry in ${retryAfterMs} ms.`, retryAfterMs, ref));
  }

  /** Sends an answer now, or after the answers to the connection's earlier requests, keeping their order. */
  #answer(c: Connection, text: string): void {
    c.inTurn(() => this.#opts.send([c.peer], text));
  }
}
