/** A `ws` client socket whose handshake settles once, with a timeout. */
import { WebSocket } from "ws";
import { CONNECT_TIMEOUT_MS, type Sink } from "./types.js";

export interface Handshake<T> {
  ws: WebSocket;
  done: Promise<T>;
  resolve(value: T): void;
  reject(why: string): void;
  /** Closes without reporting the close as a problem. */
  close(): void;
}

/**
 * Opens `url`; until the caller resolves the handshake, a close or error rejects it.
 * Afterwards a close the caller did not ask for is reported to the sink.
 */
export function openSocket<T>(url: string, sink: Sink): Handshake<T> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let settled = false;
  let closing = false;
  let settle: { resolve: (value: T) => void; reject: (err: Error) => void } | null = null;
  const done = new Promise<T>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const hs: Handshake<T> = {
    ws,
    done,
    resolve(value) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      settle?.resolve(value);
    },
    reject(why) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      hs.close();
      settle?.reject(new Error(why));
    },
    close() {
      closing = true;
      // terminate, not close: waiting for 10,000 closing handshakes would only slow the teardown.
      ws.terminate();
    },
  };
  const timer = setTimeout(() => hs.reject("connect timeout"), CONNECT_TIMEOUT_MS);
  ws.on("error", (err) => hs.reject(err.message));
  ws.on("close", (code) => {
    if (!settled) hs.reject(`closed during handshake (${code})`);
    else if (!closing) sink.problem(`closed ${code}`);
  });
  return hs;
}
