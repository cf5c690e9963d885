/**
 * A WebSocket as the hub's Peer, with the transport's duties: send only when open,
 * close a slow consumer whose unsent buffer passes the cap rather than let memory
 * grow, and make sure a close completes even when the peer does not answer.
 */
import { WebSocket } from "ws";
import type { Peer } from "./hub.js";

/** How long a peer may take to answer our close frame before its socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

export function closeWithin(ws: WebSocket, code: number, reason: string, graceMs = CLOSE_GRACE_MS): void {
  if (ws.readyState === WebSocket.CLOSED) return;
  if (ws.readyState !== WebSocket.CLOSING) ws.close(code, reason);
  setTimeout(() => ws.terminate(), graceMs).unref();
}

export function socketPeer(ws: WebSocket, maxBufferedBytes: number, onSlow: () => void): Peer {
  return {
    send(text) {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > maxBufferedBytes) {
        onSlow();
        // Its buffer is full, so a close frame would wait behind it: give it little time.
        closeWithin(ws, 1008, "too slow: unsent data over the limit", 200);
        return;
      }
      ws.send(text);
    },
    close(code, reason) {
      closeWithin(ws, code, reason);
    },
  };
}
