/** Starts the real server on port 0 and connects real WebSocket clients to it. */
import { connect, type Socket } from "node:net";
import { pino } from "pino";
import { afterEach, beforeEach, expect } from "vitest";
import { WebSocket } from "ws";
import { ChatClient, ChatError, type Frame } from "../../src/client/index.js";
import { DEFAULTS, type Options } from "../../src/config.js";
import { compileValidators } from "../../src/protocol/schemas.js";
import { isRequestEvent } from "../../src/protocol/events.js";
import { startServer, type ChatServer } from "../../src/server/httpServer.js";

const validators = compileValidators();

/** Checks a frame the server sent against its reply or push schema; returns the problem, if any. */
export function schemaProblem(frame: Frame): string | undefined {
  const validate = isRequestEvent(frame.event)
    ? validators.reply[frame.event]
    : (validators.push as Record<string, (typeof validators.push)["error"] | undefined>)[frame.event];
  if (!validate) return `no schema for event ${frame.event}`;
  if (!validate(frame.data)) return `${frame.event}: ${JSON.stringify(validate.errors)}`;
  return undefined;
}

export interface TestClient extends ChatClient {
  /** Every push (frame without ref) received so far, oldest first. */
  readonly pushes: Frame[];
}

type Tuple<T, N extends number, R extends T[] = []> = R["length"] extends N ? R : Tuple<T, N, [T, ...R]>;

export interface Harness {
  server: ChatServer;
  url: string;
  /** A new client, welcomed; every frame it receives is checked against the schemas. */
  client(): Promise<TestClient>;
  /** `n` new clients, connected one after another. */
  clients<N extends number>(n: N): Promise<Tuple<TestClient, N>>;
  /** Resolves once every given client has seen the effects of everything sent before (a ping round trip each). */
  settle(...clients: ChatClient[]): Promise<void>;
  /** Schema violations seen in any frame the server sent. */
  problems: string[];
  close(): Promise<void>;
}

export async function startHarness(overrides: Partial<Options> = {}): Promise<Harness> {
  // Tests send as fast as they can from one address: rate limits and quotas are tested on their own, with their own settings.
  const unlimited = { ratePerSecond: 1_000_000, rateBurst: 1_000_000, accountsPerMinutePerIp: 1_000_000, roomsPerMinutePerIp: 1_000_000, bytesPerSecondPerIp: 1024 ** 3 };
  const options: Options = { ...DEFAULTS, port: 0, host: "127.0.0.1", db: ":memory:", ...unlimited, ...overrides };
  const server = await startServer({ options, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }) });
  await server.ready;
  const clients: ChatClient[] = [];
  const problems: string[] = [];
  const harness: Harness = {
    server,
    url: server.url,
    problems,
    async clients<N extends number>(n: N) {
      const cs: TestClient[] = [];
      for (let i = 0; i < n; i++) cs.push(await harness.client());
      return cs as Tuple<TestClient, N>;
    },
    async client() {
      const pushes: Frame[] = [];
      const client = await ChatClient.connect(server.url, { WebSocket: WebSocket as never });
      client.on("frame", (frame) => {
        const problem = schemaProblem(frame);
        if (problem) problems.push(problem);
        if (frame.ref === undefined) pushes.push(frame);
      });
      clients.push(client);
      return Object.assign(client, { pushes }) as TestClient;
    },
    async settle(...cs) {
      await Promise.all(cs.map((c) => c.request("ping")));
    },
    async close() {
      for (const c of clients) if (!c.closed) c.close();
      await server.close(1000);
    },
  };
  return harness;
}

/** The pushes of `event` a client has received, and forgets them all. */
export function take(client: TestClient, event?: string): Frame[] {
  const found = client.pushes.filter((f) => event === undefined || f.event === event);
  client.pushes.length = 0;
  return found;
}

/** One client frame: masked (with a zero key, which leaves the payload as it is), as RFC 6455 requires of clients. */
export function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x81, 0x80 | n]) : n < 65536 ? Buffer.from([0x81, 0x80 | 126, n >> 8, n & 0xff]) : null;
  if (!head) throw new Error("frame too large for this helper");
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

/** A raw ws connection, for frames the typed client would never send. */
export async function rawSocket(url: string): Promise<{ ws: WebSocket; frames: Frame[]; next(): Promise<Frame> }> {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  const waiters: ((f: Frame) => void)[] = [];
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data)) as Frame;
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return {
    ws,
    frames,
    next: () => new Promise((resolve) => {
      const f = frames.shift();
      if (f) resolve(f);
      else waiters.push(resolve);
    }),
  };
}

/**
 * A fresh harness for each test of the calling file, closed after it; a test fails
 * when any frame the server sent broke its schema. Returns the current harness.
 */
export function useHarness(overrides: Partial<Options> = {}): () => Harness {
  let current: Harness | undefined;
  beforeEach(async () => {
    current = await startHarness(overrides);
  });
  afterEach(async () => {
    const h = current!;
    current = undefined;
    await h.close();
    expect(h.problems).toEqual([]);
  });
  return () => {
    if (!current) throw new Error("the harness runs only inside a test");
    return current;
  };
}

/** The ChatError a request rejects with; fails the test when it resolves or fails otherwise. */
export async function rejection(p: Promise<unknown>): Promise<ChatError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ChatError);
  return err as ChatError;
}

/** The server's `http://` address of `path` (on the chat port). */
export function httpUrl(server: { url: string }, path: string): string {
  return server.url.replace("ws:", "http:").replace("/ws", path);
}

/** Resolves with the HTTP status of a refused upgrade, or "open" when accepted (it is then closed again). */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number | "open"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on("open", () => {
      resolve("open");
      ws.close();
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.socket.destroy();
    });
    ws.on("error", () => {});
  });
}

/** A raw TCP connection: what it has received so far, and its close. */
export interface TcpProbe {
  socket: Socket;
  received(): string;
  closed: Promise<void>;
}

/** Opens a raw TCP connection to `port` and resolves once it is connected; it sends nothing by itself. */
export async function tcpProbe(port: number, host = "127.0.0.1"): Promise<TcpProbe> {
  const socket = connect(port, host);
  let text = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => (text += chunk));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("close", () => reject(new Error("closed before it connected")));
  });
  return { socket, received: () => text, closed };
}
