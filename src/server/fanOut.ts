/**
 * Fan-out: an outbound message's audience resolved now to this node's connections, and
 * the message serialised once for all of them. The replies that hand out a token get the
 * plain one minted for their request (only its hash went to the log), and list replies
 * are cut to the reply budget.
 */
import type { Logger } from "pino";
import { forEachConn } from "../core/audience.js";
import type { ChatState, ConnId } from "../core/model.js";
import type { Outbound } from "../core/outbound.js";
import type { Connection, Peer } from "./connection.js";
import { envelope } from "./envelope.js";
import type { Minter } from "./identities.js";
import { fitMembers, fitRecent, fitRooms, withinBudget } from "./replyBudget.js";

/** An outbound message serialised, and this node's peers it goes to. */
export type Rendered = { peers: Peer[]; text: string };

export interface FanOutOptions {
  conns: ReadonlyMap<ConnId, Connection>;
  maxReplyBytes: number;
  logger: Logger;
  state(): ChatState;
  /** Where the pushes of a connection welcomed or signed in by the command being applied begin. */
  since(): string;
}

export class FanOut {
  readonly #opts: FanOutOptions;

  constructor(opts: FanOutOptions) {
    this.#opts = opts;
  }

  /**
   * Resolves an outbound message's audience and serialises it once; undefined when it reaches no one
   * here. `minted` holds the plain tokens of the request that caused it, for the replies that hand them out.
   */
  render(o: Outbound, minted?: Minter): Rendered | undefined {
    const state = this.#opts.state();
    const peers: Peer[] = [];
    forEachConn(state, o.to, (conn) => {
      const c = this.#opts.conns.get(conn);
      if (c) peers.push(c.peer);
    });
    if (peers.length === 0) return undefined;
    const budget = this.#opts.maxReplyBytes;
    let text: string;
    if (o.event === "welcome" || o.event === "replace_token") {
      const hash = state.users.get(o.data.user.id)?.tokenHash;
      const token = hash === undefined ? undefined : minted?.tokenOf(hash);
      if (token === undefined) {
        this.#opts.logger.error({ user: o.data.user.id, event: o.event }, "no token was minted here for this reply");
        return undefined;
      }
      text = envelope(o.event, o.event === "welcome" ? { user: o.data.user, token, since: this.#opts.since() } : { user: o.data.user, token }, o.event === "replace_token" ? o.ref : undefined);
    } else if (o.event === "auth") {
      text = envelope(o.event, { ...o.data, since: this.#opts.since() }, o.ref);
    } else if (o.event === "choose_room") {
      text = withinBudget((d) => envelope(o.event, d, o.ref), o.data, budget, fitRecent);
    } else if (o.event === "show_rooms") {
      text = withinBudget((d) => envelope(o.event, d, o.ref), o.data, budget, fitRooms);
    } else if (o.event === "room_members") {
      text = withinBudget((d) => envelope(o.event, d, o.ref), o.data, budget, fitMembers);
    } else {
      text = envelope(o.event, o.data, o.ref);
    }
    return { peers, text };
  }
}
