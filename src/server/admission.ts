/**
 * Which WebSocket upgrades to accept: an origin allowlist for browsers and caps on
 * connections in all and per IP. A refusal is an HTTP status, never a socket.
 */
import type { IncomingMessage } from "node:http";

export interface AdmissionOptions {
  allowedOrigins: readonly string[];
  maxConnections: number;
  maxConnectionsPerIp: number;
}

export type Verdict = { ok: true; ip: string } | { ok: false; status: number; reason: string; text: string };

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

export class Admission {
  readonly #opts: AdmissionOptions;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  constructor(opts: AdmissionOptions) {
    this.#opts = opts;
  }

  check(req: IncomingMessage): Verdict {
    const origin = req.headers.origin;
    // Non-browser clients send no Origin; the allowlist protects browser users only. The
    // server's own page (same host) is always allowed.
    if (origin !== undefined && this.#opts.allowedOrigins.length > 0 && !this.#opts.allowedOrigins.includes(origin) && !sameHost(origin, req.headers.host)) {
      return { ok: false, status: 403, reason: "origin", text: "Forbidden" };
    }
    if (this.#total >= this.#opts.maxConnections) return { ok: false, status: 503, reason: "capacity", text: "Service Unavailable" };
    const ip = req.socket.remoteAddress ?? "unknown";
    if ((this.#perIp.get(ip) ?? 0) >= this.#opts.maxConnectionsPerIp) {
      return { ok: false, status: 429, reason: "per_ip", text: "Too Many Requests" };
    }
    return { ok: true, ip };
  }

  opened(ip: string): void {
    this.#total++;
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
  }

  closed(ip: string): void {
    this.#total--;
    const n = (this.#perIp.get(ip) ?? 1) - 1;
    if (n === 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, n);
  }
}
