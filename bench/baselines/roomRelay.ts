/**
 * What both relays share: a `ws` server on --port/--host whose clients pick a room with
 * `?room=NAME` (default "all", a broadcast), a frame's way to the room's other sockets,
 * and the spawner's start-up line. Each relay decides when a frame goes (`onFrame`).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, WebSocket, type RawData } from "ws";
import { announce, listenArgs } from "./args.js";

/** A frame received, and the sockets of its sender's room (the sender among them). */
export interface Frame {
  from: WebSocket;
  peers: ReadonlySet<WebSocket>;
  data: Buffer;
  isBinary: boolean;
}

/** Sends `frame`, untouched, to every other open socket of its room. */
export function relay({ from, peers, data, isBinary }: Frame): void {
  for (const other of peers) if (other !== from && other.readyState === WebSocket.OPEN) other.send(data, { binary: isBinary });
}

export function startRelay(argv: readonly string[], onFrame: (frame: Frame) => void): void {
  const { port, host } = listenArgs(argv);
  const rooms = new Map<string, Set<WebSocket>>();
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });
  wss.on("connection", (ws, req) => {
    const room = new URL(req.url ?? "/", "http://x").searchParams.get("room") ?? "all";
    let members = rooms.get(room);
    if (!members) rooms.set(room, (members = new Set()));
    members.add(ws);
    const peers = members;
    ws.on("message", (data: RawData, isBinary: boolean) => onFrame({ from: ws, peers, data: data as Buffer, isBinary }));
    ws.on("close", () => peers.delete(ws));
    ws.on("error", () => ws.terminate());
  });
  http.listen(port, host, () => {
    announce(`ws://${host}:${(http.address() as AddressInfo).port}/`);
  });
}
