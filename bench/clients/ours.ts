/**
 * Client of our server: waits for `welcome`, joins with `choose_room`, sends with
 * `send_message`. Room `message` pushes are recognised by their prefix, which
 * the server's envelope (event first) guarantees; anything else is parsed.
 */
import { openSocket } from "./socket.js";
import { LOBBY, MARKER, type BenchConn, type ClientProtocol, type Sink } from "./types.js";

const PUSH_PREFIX = '{"event":"message"';
const REPLY_PREFIX = '{"event":"send_message"';

interface Envelope {
  event?: unknown;
  data?: unknown;
  ref?: unknown;
}

function parse(frame: string): Envelope {
  try {
    const v: unknown = JSON.parse(frame);
    return typeof v === "object" && v !== null ? (v as Envelope) : {};
  } catch {
    return {};
  }
}

function errorCode(env: Envelope): string {
  const code = typeof env.data === "object" && env.data !== null ? (env.data as { code?: unknown }).code : undefined;
  return `error ${typeof code === "string" ? code : "?"}`;
}

export function oursProtocol(url: string): ClientProtocol {
  return {
    echoes: true,

    async prepareRooms(names: string[]): Promise<string[]> {
      // A throwaway connection creates the rooms and leaves; owning them without a
      // connection costs nothing per message.
      const ids = new Map<number, string>();
      const sink: Sink = { delivery: () => {}, problem: () => {} };
      const hs = openSocket<string[]>(url, sink);
      let replies = 0;
      hs.ws.on("message", (data: Buffer) => {
        const env = parse(data.toString("utf8"));
        if (env.event === "welcome") {
          names.forEach((room_name, ref) => hs.ws.send(JSON.stringify({ event: "create_room", data: { room_name }, ref })));
        } else if (typeof env.ref === "number") {
          if (env.event !== "create_room") return hs.reject(`create_room ${JSON.stringify(names[env.ref])}: ${errorCode(env)}`);
          const room = (env.data as { room?: { id?: unknown } }).room;
          if (typeof room?.id !== "string") return hs.reject("create_room reply without room.id");
          ids.set(env.ref, room.id);
          if (++replies === names.length) hs.resolve(names.map((_, i) => ids.get(i)!));
        }
      });
      if (names.length === 0) hs.resolve([]);
      try {
        return await hs.done;
      } finally {
        hs.close();
      }
    },

    connect(room: string, sink: Sink): Promise<BenchConn> {
      const hs = openSocket<BenchConn>(url, sink);
      let ref = 1;
      const head = `{"event":"send_message","data":{"room_id":${JSON.stringify(room)},"message":"`;
      const conn: BenchConn = {
        send: (text) => hs.ws.send(`${head}${text}"},"ref":${ref++}}`),
        close: () => hs.close(),
      };
      let joined = false;
      hs.ws.on("message", (data: Buffer) => {
        const frame = data.toString("utf8");
        if (frame.startsWith(PUSH_PREFIX)) {
          const at = frame.indexOf(MARKER);
          if (at >= 0) sink.delivery(frame, at);
          return;
        }
        if (frame.startsWith(REPLY_PREFIX)) return;
        const env = parse(frame);
        if (env.event === "message" && typeof env.data === "object" && env.data !== null) {
          const text = (env.data as { text?: unknown }).text;
          // The prefix check missed it (key order changed?): still count it, from the parsed text.
          if (typeof text === "string" && text.startsWith(MARKER)) sink.delivery(text, 0);
        } else if (env.event === "welcome" && !joined) {
          joined = true;
          if (room === LOBBY) hs.resolve(conn);
          else hs.ws.send(JSON.stringify({ event: "choose_room", data: { room_id: room }, ref: 0 }));
        } else if (env.event === "choose_room" && env.ref === 0) {
          hs.resolve(conn);
        } else if (env.event === "error") {
          if (env.ref === 0) hs.reject(`choose_room: ${errorCode(env)}`);
          sink.problem(errorCode(env));
        }
      });
      return hs.done;
    },
  };
}
