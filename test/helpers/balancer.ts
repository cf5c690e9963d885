/**
 * A TCP load balancer for tests, as nginx would be in front of a cluster: each new
 * connection goes to the next backend in turn, skipping any that refuses it (a node
 * that was killed), and is piped both ways until either side closes.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface Balancer {
  /** `ws://127.0.0.1:<port>/ws` */
  readonly url: string;
  close(): Promise<void>;
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

export async function startBalancer(backends: () => number[]): Promise<Balancer> {
  let turn = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer(async (client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    const ports = backends();
    for (let i = 0; i < ports.length; i++) {
      const port = ports[turn++ % ports.length]!;
      try {
        const upstream = await dial(port);
        sockets.add(upstream);
        upstream.on("close", () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on("error", () => upstream.destroy());
        client.on("close", () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        return;
      } catch {
        // A dead backend: the next one.
      }
    }
    client.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
