/**
 * What `Store.prune` keeps, and the id bound that turns "older than N days" into a
 * key range: message ids are UUIDv7, so they sort by the millisecond they were made.
 */
import type { Expiry } from "../core/expiry.js";

/** Messages from `beforeId` on, and the newest `keepPerConversation` of each conversation; an absent (or 0) rule keeps all. */
export type Retention = Expiry;

/** The lowest UUIDv7 of millisecond `ms` (clamped to 0 … 2^48 − 1): every id made at or after `ms` sorts at or above it. */
export function uuidv7Floor(ms: number): string {
  const clamped = Math.min(Math.max(0, Math.floor(ms)), 2 ** 48 - 1);
  const hex = clamped.toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}
