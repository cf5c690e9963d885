import type { ErrorCode } from "../protocol/errors.js";

/** Hooks for metrics; every method is optional to implement as a no-op. */
export interface HubObserver {
  /** One per text or binary frame received: its event (or "invalid") and "ok" or the error code. */
  request(event: string, outcome: "ok" | ErrorCode): void;
  /** Frames handed to connections. */
  delivered(count: number): void;
  /** A store commit became durable, `seconds` after it started (on a file, mostly the fsync); or it failed. */
  committed(seconds: number): void;
  commitFailed(): void;
}

/** The observer of a hub that nothing watches. */
export const NO_OBSERVER: HubObserver = { request() {}, delivered() {}, committed() {}, commitFailed() {} };
