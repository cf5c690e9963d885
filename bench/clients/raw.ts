/** Client of the raw ws relay: the room is in the URL; every frame received is a relayed message. */
import { openSocket } from "./socket.js";
import { MARKER, type BenchConn, type ClientProtocol, type Sink } from "./types.js";

export function rawProtocol(baseUrl: string): ClientProtocol {
  return {
    echoes: false,
    prepareRooms: (names) => Promise.resolve(names),
    connect(room: string, sink: Sink): Promise<BenchConn> {
      const url = new URL(baseUrl);
      url.searchParams.set("room", room);
      const hs = openSocket<BenchConn>(url.href, sink);
      // Same envelope as our server's send_message, so frames are the same size on the way in.
      const head = `{"event":"send_message","data":{"room_id":${JSON.stringify(room)},"message":"`;
      hs.ws.on("open", () =>
        hs.resolve({
          send: (text) => hs.ws.send(`${head}${text}"}}`),
          close: () => hs.close(),
        }),
      );
      hs.ws.on("message", (data: Buffer) => {
        const frame = data.toString("utf8");
        const at = frame.indexOf(MARKER);
        if (at >= 0) sink.delivery(frame, at);
      });
      return hs.done;
    },
  };
}
