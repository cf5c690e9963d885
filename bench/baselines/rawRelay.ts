/**
 * The ceiling for Node + ws: relays each frame, untouched, to the other sockets of
 * the sender's room. No parsing, validation, state or replies. A client picks its
 * room with `?room=NAME` (default "all", which makes the relay a broadcast).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, WebSocket, type RawData } from "ws";
import { announce, listenArgs } from "./args.js";

const { port, host } = listenArgs(process.argv.slice(2));
const rooms = new Map<string, Set<WebSocket>>();
const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });

wss.on("connection", (ws, req) => {
  const room = new URL(req.url ?? "/", "http://x").searchParams.get("room") ?? "all";
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(ws);
  const peers = members;
  ws.on("message", (data: RawData, isBinary: boolean) => {
    for (const other of peers) {
      if (other !== ws && other.readyState === WebSocket.OPEN) other.send(data as Buffer, { binary: isBinary });
    }
  });
  ws.on("close", () => peers.delete(ws));
  ws.on("error", () => ws.terminate());
});

http.listen(port, host, () => {
  announce(`ws://${host}:${(http.address() as AddressInfo).port}/`);
});
// The load generator has closed its sockets by the time it asks us to stop; nothing to flush.
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
