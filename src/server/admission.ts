/**
 * Which connections to accept. Every TCP connection is counted from its accept until
 * it closes, in all and under its client's key, whether it is still plain HTTP or
 * already a WebSocket (it is the same socket). Every request but the health probes
 * must name one of our hosts; an upgrade then must come from an allowed origin and
 * find room under the WebSocket cap. A refusal is an HTTP status.
 *
 * A connection from a trusted proxy carries many clients, so it is not counted under
 * the proxy's key at accept; from its upgrade on it counts under the client the proxy
 * names in X-Forwarded-For.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { TrustedProxies, addressKey, ipKey, parseIp } from "./clientAddress.js";
import { hostAllowed, originAllowed } from "./origins.js";

export interface AdmissionOptions {
  allowedOrigins: readonly string[];
  publicHosts: readonly string[];
  maxConnections: number;
  maxConnectionsPerIp: number;
  trustedProxies: readonly string[];
}

export interface Refusal {
  status: number;
  text: string;
  /** The metrics label: host, origin, capacity or per_ip. */
  reason: string;
}

export type Verdict = { ok: true; clientKey: string } | ({ ok: false } & Refusal);

export const MISDIRECTED: Refusal = { status: 421, text: "Misdirected Request", reason: "host" };
const FORBIDDEN: Refusal = { status: 403, text: "Forbidden", reason: "origin" };
const FULL: Refusal = { status: 503, text: "Service Unavailable", reason: "capacity" };
const PER_IP: Refusal = { status: 429, text: "Too Many Requests", reason: "per_ip" };

/**
 * TCP connections open at once, WebSocket or not: the WebSocket cap plus 10% (at least
 * 128) for health checks, page loads and upgrades under way while the WebSockets are full.
 */
export function acceptLimit(maxConnections: number): number {
  return maxConnections + Math.max(128, Math.ceil(maxConnections / 10));
}

export class Admission {
  readonly #opts: AdmissionOptions;
  readonly #proxies: TrustedProxies;
  readonly #perKey = new Map<string, number>();
  /** The key each counted socket is counted under; sockets of a trusted proxy have none until their upgrade. */
  readonly #keyOf = new WeakMap<Socket, string>();
  #sockets = 0;
  #webSockets = 0;

  /** Throws a TypeError when a trusted proxy entry is not an address or CIDR range. */
  constructor(opts: AdmissionOptions) {
    this.#opts = opts;
    this.#proxies = new TrustedProxies(opts.trustedProxies);
  }

  /** Counts a new TCP connection until it closes, or returns why it is refused (and then counts nothing). */
  accept(socket: Socket): Refusal | undefined {
    if (this.#sockets >= acceptLimit(this.#opts.maxConnections)) return FULL;
    const trusted = this.#proxies.has(parseIp(socket.remoteAddress));
    const key = trusted ? undefined : addressKey(socket.remoteAddress);
    if (key !== undefined && this.#count(key) >= this.#opts.maxConnectionsPerIp) return PER_IP;
    this.#sockets++;
    if (key !== undefined) this.#add(socket, key);
    socket.once("close", () => {
      this.#sockets--;
      const counted = this.#keyOf.get(socket);
      if (counted !== undefined) this.#remove(counted);
    });
    return undefined;
  }

  /**
   * Judges an upgrade of a socket `accept` counted and whose Host passed `hostAllowed`:
   * origin (403), the WebSocket cap (503), and for a trusted proxy's socket the
   * forwarded client's cap (429). Admitted, the socket counts as a WebSocket until it closes.
   */
  upgrade(req: IncomingMessage): Verdict {
    const { host, origin } = req.headers;
    if (!originAllowed(origin, host, this.#opts.allowedOrigins)) return { ok: false, ...FORBIDDEN };
    if (this.#webSockets >= this.#opts.maxConnections) return { ok: false, ...FULL };
    const socket = req.socket;
    let clientKey = this.#keyOf.get(socket);
    if (clientKey === undefined) {
      const proxy = parseIp(socket.remoteAddress);
      clientKey = proxy ? ipKey(this.#proxies.forwardedClient(proxy, req.headers["x-forwarded-for"])) : addressKey(socket.remoteAddress);
      if (this.#count(clientKey) >= this.#opts.maxConnectionsPerIp) return { ok: false, ...PER_IP };
      this.#add(socket, clientKey);
    }
    this.#webSockets++;
    socket.once("close", () => this.#webSockets--);
    return { ok: true, clientKey };
  }

  /** True when the request's Host is one of `publicHosts` (or the list is empty). */
  hostAllowed(req: IncomingMessage): boolean {
    return hostAllowed(req.headers.host, this.#opts.publicHosts);
  }

  #count(key: string): number {
    return this.#perKey.get(key) ?? 0;
  }

  #add(socket: Socket, key: string): void {
    this.#keyOf.set(socket, key);
    this.#perKey.set(key, this.#count(key) + 1);
  }

  #remove(key: string): void {
    const n = this.#count(key) - 1;
    if (n <= 0) this.#perKey.delete(key);
    else this.#perKey.set(key, n);
  }
}
