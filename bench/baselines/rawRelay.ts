/**
 * The ceiling for Node + ws: relays each frame, untouched, to the other sockets of
 * the sender's room. No parsing, validation, state or replies. A client picks its
 * room with `?room=NAME` (default "all", which makes the relay a broadcast).
 */
import { relay, startRelay } from "./roomRelay.js";

startRelay(process.argv.slice(2), relay);
// The load generator has closed its sockets by the time it asks us to stop; nothing to flush.
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
