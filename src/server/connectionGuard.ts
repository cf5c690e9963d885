/**
 * TCP connections from their accept to their first request head. Admission counts
 * each one; a refused one gets a raw HTTP answer and is dropped, and an admitted one
 * must complete its first request head (a request or an upgrade) within
 * `headersTimeoutMs` or it is destroyed. Node's own headersTimeout does not act on a
 * connection that never sends a byte, and only acts at its checking interval.
 */
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Admission, Refusal } from "./admission.js";

export interface ConnectionGuardOptions {
  headersTimeoutMs: number;
  /** A connection refused at accept (reason per_ip or capacity) or dropped for a slow head (headers_timeout). */
  onRefused(reason: string, socket: Socket): void;
}

/** An HTTP answer written straight to the socket, for connections no request handler will see. */
export function rawAnswer({ status, text }: Pick<Refusal, "status" | "text">): string {
  return `HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
}

/**
 * Answers a refused upgrade (its head is read) and makes sure the socket goes: destroyed
 * once the answer is written, as ws does, or after `graceMs`, since a peer that never
 * closes its half would otherwise hold the socket, and its slot, for good.
 */
export function refuseSocket(socket: Duplex, refusal: Pick<Refusal, "status" | "text">, graceMs: number): void {
  socket.once("finish", () => socket.destroy());
  socket.end(rawAnswer(refusal));
  setTimeout(() => socket.destroy(), graceMs).unref();
}

export class ConnectionGuard {
  readonly #admission: Admission;
  readonly #opts: ConnectionGuardOptions;
  readonly #waiting = new WeakMap<Socket, NodeJS.Timeout>();
  readonly #refused = new WeakSet<Socket>();

  constructor(admission: Admission, opts: ConnectionGuardOptions) {
    this.#admission = admission;
    this.#opts = opts;
  }

  /** For the http server's 'connection' event. */
  accepted(socket: Socket): void {
    const refusal = this.#admission.accept(socket);
    if (refusal) {
      this.#refused.add(socket);
      this.#opts.onRefused(refusal.reason, socket);
      // The answer goes out with our FIN; reading the request before closing keeps the kernel from resetting it away.
      socket.end(rawAnswer(refusal));
      setTimeout(() => socket.destroy(), Math.min(1000, this.#opts.headersTimeoutMs)).unref();
      return;
    }
    const timer = setTimeout(() => {
      this.#waiting.delete(socket);
      this.#opts.onRefused("headers_timeout", socket);
      socket.destroy();
    }, this.#opts.headersTimeoutMs);
    timer.unref();
    this.#waiting.set(socket, timer);
    socket.once("close", () => clearTimeout(timer));
  }

  /**
   * For each request and upgrade: the socket's first head is complete, so its timer
   * stops. False, with the socket destroyed, for a socket refused at accept: answer nothing.
   */
  started(socket: Socket): boolean {
    if (this.#refused.has(socket)) {
      socket.destroy();
      return false;
    }
    const timer = this.#waiting.get(socket);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.#waiting.delete(socket);
    }
    return true;
  }
}
