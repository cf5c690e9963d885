/**
 * A WebSocket as the hub's Peer, with the transport's duties: send only when open,
 * close a slow consumer whose unsent buffer passes the cap rather than let memory
 * grow, and make sure a close completes even when the peer does not answer.
 *
 * Text goes out as a frame encoded once for all recipients (FrameCache) and written
 * straight to the TCP socket, corked until the end of the tick so that the frames
 * one socket gets in a turn leave in one write. ws runs without compression, so its
 * own sender (pings, close frames) writes to the same socket in the same order.
 */
import type { Duplex } from "node:stream";
import { WebSocket } from "ws";
import { CLOSE_CODES } from "../protocol/closeCodes.js";
import type { Peer } from "./connection.js";
import type { FrameCache } from "./wsFrame.js";

/** How long a peer may take to answer our close frame before its socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

export function closeWithin(ws: WebSocket, code: number, reason: string, graceMs = CLOSE_GRACE_MS): void {
  if (ws.readyState === WebSocket.CLOSED) return;
  if (ws.readyState !== WebSocket.CLOSING) ws.close(code, reason);
  setTimeout(() => ws.terminate(), graceMs).unref();
}

/** Corked bytes after which a turn's frames are handed to the kernel before the turn ends. */
const FLUSH_BYTES = 64 * 1024;

function uncork(socket: Duplex): void {
  socket.uncork();
}

export interface SocketPeerOptions {
  maxBufferedBytes: number;
  frames: FrameCache;
  onSlow(): void;
}

export function socketPeer(ws: WebSocket, socket: Duplex, opts: SocketPeerOptions): Peer {
  return {
    send(text) {
      if (ws.readyState !== WebSocket.OPEN) return;
      // Judged on every frame, this turn's included, so that however a client's requests arrive
      // it never holds more than the cap plus one frame of the server's memory.
      if (ws.bufferedAmount > opts.maxBufferedBytes) {
        opts.onSlow();
        // Its buffer is full, so a close frame would wait behind it: give it little time.
        closeWithin(ws, CLOSE_CODES.policy.code, "too slow: unsent data over the limit", 200);
        return;
      }
      if (!socket.writableCorked) {
        socket.cork();
        process.nextTick(uncork, socket);
      }
      socket.write(opts.frames.frameOf(text));
      // A busy turn hands the kernel what it has so far, so that only what a reader leaves unread counts.
      if (socket.writableLength >= FLUSH_BYTES) socket.uncork();
    },
    close(code, reason) {
      closeWithin(ws, code, reason);
    },
  };
}
