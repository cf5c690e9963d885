/**
 * What the load generator needs of each server's client side. One implementation
 * per server, all on the same `ws` client so client-side costs stay comparable.
 */

/** Starts every benchmark message text; receivers find it by substring, not by parsing JSON. */
export const MARKER = "~B|";
/** The room name that means "everyone": our lobby, and a broadcast for the baselines. */
export const LOBBY = "all";

export interface Sink {
  /** A benchmark message arrived; `at` is the index of MARKER in `frame`. */
  delivery(frame: string, at: number): void;
  /** Something went wrong on a connection: an error frame, an unexpected close. */
  problem(what: string): void;
}

export interface BenchConn {
  /** Sends a benchmark message (`text` starts with MARKER) to the room this client joined. */
  send(text: string): void;
  close(): void;
}

export interface ClientProtocol {
  /** Whether a room message also comes back to its sender as a delivery. */
  readonly echoes: boolean;
  /** Creates the rooms when the server needs that; returns the handle to join for each name. */
  prepareRooms(names: string[]): Promise<string[]>;
  /** Opens one client in `room` (LOBBY for lobby and idle) and resolves once it may send. */
  connect(room: string, sink: Sink): Promise<BenchConn>;
}

export const CONNECT_TIMEOUT_MS = 20_000;
