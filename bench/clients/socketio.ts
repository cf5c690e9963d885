/**
 * Client of the Socket.IO baseline, speaking Engine.IO 4 / Socket.IO 5 framing over
 * plain `ws` (open `0{...}`, namespace connect `40`, ping `2` / pong `3`, event
 * `42[name, data]`). The official socket.io-client would add its own per-frame
 * cost to the load generator, which must stay the same across servers.
 */
import { openSocket } from "./socket.js";
import { MARKER, type BenchConn, type ClientProtocol, type Sink } from "./types.js";

export function socketioProtocol(baseUrl: string): ClientProtocol {
  return {
    echoes: true,
    prepareRooms: (names) => Promise.resolve(names),
    connect(room: string, sink: Sink): Promise<BenchConn> {
      const url = new URL(baseUrl);
      url.searchParams.set("EIO", "4");
      url.searchParams.set("transport", "websocket");
      url.searchParams.set("room", room);
      const hs = openSocket<BenchConn>(url.href, sink);
      const head = `42["send_message",{"room_id":${JSON.stringify(room)},"message":"`;
      const conn: BenchConn = { send: (text) => hs.ws.send(`${head}${text}"}]`), close: () => hs.close() };
      hs.ws.on("message", (data: Buffer) => {
        const frame = data.toString("utf8");
        if (frame.startsWith("42")) {
          const at = frame.indexOf(MARKER);
          if (at >= 0) sink.delivery(frame, at);
        } else if (frame === "2") {
          hs.ws.send("3");
        } else if (frame.startsWith("0")) {
          hs.ws.send("40");
        } else if (frame.startsWith("40")) {
          // The server's connection handler (which joins the room) has run before this packet is read.
          hs.resolve(conn);
        } else if (frame.startsWith("44")) {
          hs.reject(`connect_error ${frame.slice(2)}`);
          sink.problem("connect_error");
        }
      });
      return hs.done;
    },
  };
}
