/**
 * Closed-loop driver for bench/stream.ts, driven over IPC: each client is alone in a
 * room of its own (so a message is one command and one delivery, its sender's echo,
 * not a fan-out) and keeps `inflight` send_message requests outstanding, sending the
 * next one as each reply arrives. Connections go to the server's URLs round-robin
 * (a cluster's nodes). It counts acknowledged commands and their latency per window.
 */
import { WebSocket } from "ws";
import { Histogram, type HistogramData } from "./stats.js";

export interface DriverSetup {
  type: "setup";
  urls: string[];
  clients: number;
  msgBytes: number;
  /** Tag for this driver's room names, unique in the run. */
  id: string;
}
export interface DriverGo {
  type: "go";
  inflight: number;
}
export interface DriverWindow {
  type: "window";
}
export interface DriverStop {
  type: "stop";
}
export type ToDriver = DriverSetup | DriverGo | DriverWindow | DriverStop;

export interface DriverWindowReply {
  type: "window";
  seconds: number;
  acked: number;
  /** Error replies by code, and unexpected closes. */
  errors: Record<string, number>;
  latencyUs: HistogramData;
  maxUs: number;
}
export type FromDriver =
  | { type: "ready"; connected: number; failed: number; errors: string[] }
  | { type: "going" }
  | DriverWindowReply
  | { type: "stopped"; outstanding: number }
  | { type: "failed"; error: string };

const REPLY = '{"event":"send_message"';
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

interface Client {
  ws: WebSocket;
  room: string;
  ref: number;
  /** Send time (µs) per outstanding ref. */
  pending: Map<number, number>;
}

let clients: Client[] = [];
let running = false;
let text = "";
const win = { start: nowUs(), acked: 0, errors: {} as Record<string, number>, latency: new Histogram() };

function problem(what: string): void {
  win.errors[what] = (win.errors[what] ?? 0) + 1;
}

function send(c: Client): void {
  const ref = c.ref++;
  c.pending.set(ref, nowUs());
  c.ws.send(`{"event":"send_message","data":{"room_id":"${c.room}","message":"${text}"},"ref":${ref}}`);
}

function refOf(frame: string): number | undefined {
  // The envelope ends with ,"ref":N} when there is a ref.
  const at = frame.lastIndexOf('"ref":');
  if (at < 0) return undefined;
  const n = Number(frame.slice(at + 6, frame.length - 1));
  return Number.isInteger(n) ? n : undefined;
}

function open(url: string, roomName: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const c: Client = { ws, room: "", ref: 1, pending: new Map() };
    let ready = false;
    const timer = setTimeout(() => fail("connect timeout"), 20_000);
    function fail(why: string): void {
      clearTimeout(timer);
      if (!ready) reject(new Error(why));
      ws.terminate();
    }
    ws.on("error", (err) => fail(err.message));
    ws.on("close", (code) => {
      if (!ready) fail(`closed during setup (${code})`);
      else if (!closing) problem(`closed ${code}`);
    });
    ws.on("message", (data: Buffer) => {
      const frame = data.toString("utf8");
      if (frame.startsWith(REPLY)) {
        const ref = refOf(frame);
        const sent = ref === undefined ? undefined : c.pending.get(ref);
        if (sent === undefined) return;
        c.pending.delete(ref!);
        win.acked++;
        win.latency.record(nowUs() - sent);
        if (running) send(c);
        return;
      }
      if (frame.startsWith('{"event":"message"')) return;
      let env: { event?: string; data?: { code?: string; room?: { id?: string } }; ref?: number };
      try {
        env = JSON.parse(frame) as typeof env;
      } catch {
        return;
      }
      if (env.event === "welcome" && !ready && c.room === "") {
        ws.send(JSON.stringify({ event: "create_room", data: { room_name: roomName }, ref: 0 }));
      } else if (env.event === "create_room" && env.ref === 0 && typeof env.data?.room?.id === "string") {
        c.room = env.data.room.id;
        ready = true;
        clearTimeout(timer);
        resolve(c);
      } else if (env.event === "error") {
        const code = `error ${env.data?.code ?? "?"}`;
        if (!ready) return fail(`create_room: ${code}`);
        problem(code);
        // A refused command is answered, so the loop goes on (and counts it as an error, not an ack).
        if (typeof env.ref === "number" && c.pending.delete(env.ref) && running) send(c);
      }
    });
  });
}

let closing = false;

async function handle(msg: ToDriver): Promise<FromDriver> {
  switch (msg.type) {
    case "setup": {
      text = `~S|${"x".repeat(Math.max(1, msg.msgBytes - 3))}`;
      const errors: string[] = [];
      let failed = 0;
      const slots: Array<Client | null> = Array.from({ length: msg.clients }, () => null);
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < slots.length) {
          const i = next++;
          try {
            slots[i] = await open(msg.urls[i % msg.urls.length]!, `stream-${msg.id}-${i}`);
          } catch (err) {
            failed++;
            if (errors.length < 5) errors.push((err as Error).message);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(32, slots.length) }, lane));
      clients = slots.filter((c): c is Client => c !== null);
      return { type: "ready", connected: clients.length, failed, errors };
    }
    case "go":
      running = true;
      for (const c of clients) for (let k = 0; k < msg.inflight; k++) send(c);
      return { type: "going" };
    case "window": {
      const reply: DriverWindowReply = {
        type: "window",
        seconds: (nowUs() - win.start) / 1e6,
        acked: win.acked,
        errors: { ...win.errors },
        latencyUs: win.latency.toData(),
        maxUs: win.latency.max,
      };
      Object.assign(win, { start: nowUs(), acked: 0, errors: {}, latency: new Histogram() });
      return reply;
    }
    case "stop": {
      running = false;
      const until = Date.now() + 10_000;
      const outstanding = (): number => clients.reduce((a, c) => a + c.pending.size, 0);
      while (outstanding() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const left = outstanding();
      closing = true;
      for (const c of clients) c.ws.terminate();
      return { type: "stopped", outstanding: left };
    }
    default: {
      const unknown: never = msg;
      throw new Error(`unknown request ${JSON.stringify(unknown)}`);
    }
  }
}

if (!process.send) {
  console.error("streamDriver.ts is started by bench/stream.ts over IPC, not by hand.");
  process.exit(2);
}
process.on("message", (msg: ToDriver) => {
  handle(msg).then(
    (reply) => {
      process.send?.(reply);
      if (reply.type === "stopped") setTimeout(() => process.exit(0), 200);
    },
    (err: unknown) => process.send?.({ type: "failed", error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on("disconnect", () => process.exit(0));
