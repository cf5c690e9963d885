/**
 * What applying one command yields besides its outbound messages: the durable changes it
 * made and whose presence it may have changed. `reduce` makes a fresh one per command and
 * hands it down, so that nothing of one command can leak into the next (not even when a
 * command throws), and the state holds only what lasts between commands.
 */
import type { Change } from "./changes.js";
import type { UserId } from "./model.js";

export interface Effects {
  /** The durable changes, in the order they were made. */
  readonly changes: Change[];
  /** Accounts whose connections changed, and whether each was online before: judged for `presence` pushes once the command is done. */
  readonly presence: Map<UserId, boolean>;
}

export function newEffects(): Effects {
  return { changes: [], presence: new Map() };
}
