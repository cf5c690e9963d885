/**
 * Per-account and per-room caps: rules `reduce` applies, given to it by the shell from
 * its options rather than kept in the state, since they are configuration, not data.
 * Every node of a cluster must apply the same, or replicas would part ways.
 */
export interface Limits {
  /** Rooms one account may own at once. */
  maxRoomsPerAccount: number;
  /** Members one room may have. */
  maxRoomMembers: number;
  /** Rooms one account may be a member of: bounds the `auth` reply and a rename's fan-out. */
  maxRoomsJoined: number;
  /** Connections signed into one account at once: bounds the `signed_in_elsewhere` fan-out of each `auth`. */
  maxSessionsPerAccount: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({ maxRoomsPerAccount: 100, maxRoomMembers: 10_000, maxRoomsJoined: 1000, maxSessionsPerAccount: 64 });

/**
 * The core's limits out of a larger set of options, in a fixed key order: nodes compare
 * them as JSON, so the same limits must always serialise alike.
 */
export function coreLimits(options: Readonly<Limits>): Limits {
  const { maxRoomsPerAccount, maxRoomMembers, maxRoomsJoined, maxSessionsPerAccount } = options;
  return { maxRoomsPerAccount, maxRoomMembers, maxRoomsJoined, maxSessionsPerAccount };
}
