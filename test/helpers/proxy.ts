/**
 * A TCP proxy in front of a server, for dropping a client's connection on purpose:
 * `cut()` ends every connection through it, `refuse(true)` turns new ones away, and
 * `holdReplies()` stops passing what the server sends on the current connections
 * (what the client sends still reaches the server), so that a request is applied
 * but its reply is lost when the connection is then cut; `holdRequests()` is the other
 * way round: what the client sends never reaches the server.
 */
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";

export interface Proxy {
  /** The `ws://` address of the chat endpoint through the proxy. */
  url: string;
  /** Ends every connection through the proxy now (the client sees 1006). */
  cut(): void;
  /** While on, new connections are closed as soon as they arrive. */
  refuse(on: boolean): void;
  /** From now on, bytes from the server on the current connections are dropped instead of passed on. */
  holdReplies(): void;
  /** From now on, bytes from the client on the current connections are dropped instead of passed on. */
  holdRequests(): void;
  /** Connections through the proxy now. */
  readonly open: number;
  close(): Promise<void>;
}

export async function startProxy(port: number, host = "127.0.0.1"): Promise<Proxy> {
  interface Pair {
    down: Socket;
    up: Socket;
    holding: boolean;
    holdingUp: boolean;
  }
  const pairs = new Set<Pair>();
  let refusing = false;
  const server = createServer((down) => {
    if (refusing) {
      down.destroy();
      return;
    }
    const up = connect(port, host);
    const pair: Pair = { down, up, holding: false, holdingUp: false };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    for (const s of [down, up]) s.on("error", end).on("close", end);
    // A socket still connecting keeps what is written until it is connected.
    down.on("data", (chunk: Buffer) => {
      if (!pair.holdingUp) up.write(chunk);
    });
    up.on("data", (chunk: Buffer) => {
      if (!pair.holding) down.write(chunk);
    });
  });
  const destroyAll = (): void => {
    for (const p of [...pairs]) {
      p.down.destroy();
      p.up.destroy();
    }
  };
  server.listen(0, host);
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    url: `ws://${host}:${address.port}/ws`,
    cut: () => destroyAll(),
    refuse: (on) => {
      refusing = on;
    },
    holdReplies: () => {
      for (const p of pairs) p.holding = true;
    },
    holdRequests: () => {
      for (const p of pairs) p.holdingUp = true;
    },
    get open() {
      return pairs.size;
    },
    close: async () => {
      refusing = true;
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
