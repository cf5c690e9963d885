/**
 * Socket.IO 4 doing the same job as our server's rooms, with its own idioms:
 * `socket.join(room)` at connection (`?room=NAME` in the handshake query) and
 * `io.to(room).emit` for each `send_message`; the lobby ("all") is `io.emit`.
 * WebSocket transport only, no compression, no validation.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { announce, listenArgs } from "./args.js";

const LOBBY = "all";
const { port, host } = listenArgs(process.argv.slice(2));
const http = createServer();
const io = new Server(http, { transports: ["websocket"], serveClient: false, perMessageDeflate: false, httpCompression: false });

io.on("connection", (socket) => {
  const q = socket.handshake.query.room;
  const room = typeof q === "string" && q !== "" ? q : null;
  if (room !== null && room !== LOBBY) void socket.join(room);
  socket.on("send_message", (data: unknown) => {
    if (room === null || room === LOBBY) io.emit("message", data);
    else io.to(room).emit("message", data);
  });
});

http.listen(port, host, () => {
  announce(`ws://${host}:${(http.address() as AddressInfo).port}/socket.io/`);
});
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
