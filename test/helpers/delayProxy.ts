/**
 * A slow link for browser tests: a TCP proxy in front of the chat server (page and
 * WebSocket alike) that holds every byte the server sends for `delayMs` (600 ms by
 * default) before passing it on, in order; what the browser sends goes through at
 * once. Besides: `stall()` holds everything the server sends until `resume()` (a
 * request then reaches the server but its reply does not come back in time), `cut()`
 * ends every connection, and `refuse(true)` turns new ones away, as a server that is
 * down would.
 */
import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface DelayProxy {
  /** The page's address through the proxy, e.g. http://127.0.0.1:PORT/ */
  base: string;
  /** The WebSocket endpoint through the proxy. */
  url: string;
  /** The delay applied to what the server sends, in ms; may be changed at any time. */
  delayMs: number;
  /** Holds everything the server sends (on every connection) until `resume()`. */
  stall(): void;
  resume(): void;
  /** Ends every connection through the proxy now (the browser sees 1006). */
  cut(): void;
  /** While on, new connections are closed as soon as they arrive. */
  refuse(on: boolean): void;
  /** Connections accepted so far (refused ones included). */
  readonly accepted: number;
  close(): Promise<void>;
}

interface Pair {
  down: Socket;
  up: Socket;
  queue: { chunk: Buffer | null; due: number }[];
  timer: ReturnType<typeof setTimeout> | null;
}

export async function startDelayProxy(targetPort: number, options: { delayMs?: number; host?: string } = {}): Promise<DelayProxy> {
  const host = options.host ?? "127.0.0.1";
  const pairs = new Set<Pair>();
  let refusing = false;
  let stalled = false;
  let accepted = 0;

  /** Passes on what is due, in order; a `null` chunk is the server's end, passed on last. */
  const pump = (p: Pair): void => {
    if (p.timer !== null) clearTimeout(p.timer);
    p.timer = null;
    while (p.queue.length > 0 && !stalled) {
      const head = p.queue[0]!;
      const wait = head.due - Date.now();
      if (wait > 0) {
        p.timer = setTimeout(() => pump(p), wait);
        return;
      }
      p.queue.shift();
      if (head.chunk === null) p.down.end();
      else if (!p.down.destroyed) p.down.write(head.chunk);
    }
  };

  const drop = (p: Pair): void => {
    if (p.timer !== null) clearTimeout(p.timer);
    p.down.destroy();
    p.up.destroy();
    pairs.delete(p);
  };

  const server = createServer((down) => {
    accepted += 1;
    if (refusing) {
      down.destroy();
      return;
    }
    const up = connect(targetPort, host);
    const p: Pair = { down, up, queue: [], timer: null };
    pairs.add(p);
    down.on("data", (chunk) => up.write(chunk));
    down.on("end", () => up.end());
    up.on("data", (chunk: Buffer) => {
      p.queue.push({ chunk, due: Date.now() + proxy.delayMs });
      pump(p);
    });
    up.on("end", () => {
      p.queue.push({ chunk: null, due: Date.now() + proxy.delayMs });
      pump(p);
    });
    down.on("error", () => drop(p));
    up.on("error", () => drop(p));
    down.on("close", () => drop(p));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;

  const proxy: DelayProxy = {
    base: `http://${host}:${port}/`,
    url: `ws://${host}:${port}/ws`,
    delayMs: options.delayMs ?? 600,
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
      for (const p of pairs) pump(p);
    },
    cut: () => {
      for (const p of [...pairs]) drop(p);
    },
    refuse: (on) => {
      refusing = on;
    },
    get accepted() {
      return accepted;
    },
    close: async () => {
      refusing = true;
      for (const p of [...pairs]) drop(p);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
