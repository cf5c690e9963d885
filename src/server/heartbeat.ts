/**
 * WebSocket heartbeats. Each ping carries a fresh random payload and only a pong
 * echoing the outstanding one counts: an unsolicited pong, or one with other bytes,
 * shows that the peer can send, not that it reads what we send.
 *
 * The connections are spread over SLICES groups, one group pinged per tick, so that a
 * server with many connections never pings them all in one event-loop turn: that turn
 * would delay every message behind it (the tail latency of the whole server).
 */
import { randomBytes } from "node:crypto";
import type { WebSocket } from "ws";

export interface Heartbeat {
  /** Starts judging a new connection's pongs; it is first pinged within the next interval. */
  watch(ws: WebSocket): void;
  stop(): void;
}

const SLICES = 10;

/** Every `intervalMs`, drops (terminates) each socket whose last ping is unanswered and pings the rest; 0 turns it off. */
export function startHeartbeat(intervalMs: number, onDead: (ws: WebSocket) => void): Heartbeat {
  const outstanding = new WeakMap<WebSocket, Buffer>();
  const slices = Array.from({ length: SLICES }, () => new Set<WebSocket>());
  let next = 0;
  let tick = 0;
  const beat = () => {
    const slice = slices[tick++ % SLICES]!;
    for (const ws of slice) {
      if (outstanding.has(ws)) {
        onDead(ws);
        ws.terminate();
        slice.delete(ws);
        continue;
      }
      const payload = randomBytes(8);
      outstanding.set(ws, payload);
      ws.ping(payload);
    }
  };
  const timer = intervalMs > 0 ? setInterval(beat, intervalMs / SLICES) : undefined;
  timer?.unref();
  return {
    watch(ws) {
      if (timer === undefined) return;
      const slice = slices[next++ % SLICES]!;
      slice.add(ws);
      ws.on("close", () => slice.delete(ws));
      ws.on("pong", (data: Buffer) => {
        if (outstanding.get(ws)?.equals(data)) outstanding.delete(ws);
      });
    },
    stop: () => clearInterval(timer),
  };
}
