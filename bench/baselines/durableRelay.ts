/**
 * The floor for a relay that keeps what it relays: rawRelay.ts, except that each frame is
 * first appended to a journal file and relayed only once an fdatasync covers it. The frames
 * read in one event-loop turn share one sync, made on the event loop at the turn's end, as
 * our server's journal does while the disk is quick (a sync there costs less CPU than one on
 * libuv's pool). The file is zero-filled and synced up front, so a sync never has a file
 * size to record. No parsing, CRC, state, replies or reading back: what any durable server
 * on this machine pays at least.
 */
import { closeSync, fdatasyncSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { relay, startRelay, type Frame } from "./roomRelay.js";

const FILE_BYTES = 64 * 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), "durable-relay-"));
const fd = openSync(join(dir, "journal"), "w+");
for (let at = 0, zeros = Buffer.alloc(1 << 20); at < FILE_BYTES; at += zeros.length) writeSync(fd, zeros, 0, zeros.length, at);
fsyncSync(fd);

let end = 0;
/** Written this turn, waiting for its end's sync. */
let written: Frame[] = [];

function append(p: Frame): void {
  if (end + 4 + p.data.length > FILE_BYTES) end = 0;
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32LE(p.data.length);
  end += writeSync(fd, header, 0, 4, end);
  end += writeSync(fd, p.data, 0, p.data.length, end);
  if (written.push(p) === 1) setImmediate(syncAndRelay);
}

function syncAndRelay(): void {
  fdatasyncSync(fd);
  const synced = written;
  written = [];
  for (const frame of synced) relay(frame);
}

startRelay(process.argv.slice(2), append);
function stop(): void {
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
