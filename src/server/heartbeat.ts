/**
 * WebSocket heartbeats. Each ping carries a fresh random payload and only a pong
 * echoing the outstanding one counts: an unsolicited pong, or one with other bytes,
 * shows that the peer can send, not that it reads what we send.
 */
import { randomBytes } from "node:crypto";
import type { WebSocket } from "ws";

export interface Heartbeat {
  /** Starts judging a new connection's pongs; its first ping goes out at the next beat. */
  watch(ws: WebSocket): void;
  stop(): void;
}

/** Every `intervalMs`, drops (terminates) each socket whose last ping is unanswered and pings the rest; 0 turns it off. */
export function startHeartbeat(sockets: Iterable<WebSocket>, intervalMs: number, onDead: (ws: WebSocket) => void): Heartbeat {
  const outstanding = new WeakMap<WebSocket, Buffer>();
  const beat = () => {
    for (const ws of sockets) {
      if (outstanding.has(ws)) {
        onDead(ws);
        ws.terminate();
        continue;
      }
      const payload = randomBytes(8);
      outstanding.set(ws, payload);
      ws.ping(payload);
    }
  };
  const timer = intervalMs > 0 ? setInterval(beat, intervalMs) : undefined;
  timer?.unref();
  return {
    watch(ws) {
      ws.on("pong", (data: Buffer) => {
        if (outstanding.get(ws)?.equals(data)) outstanding.delete(ws);
      });
    },
    stop: () => clearInterval(timer),
  };
}
