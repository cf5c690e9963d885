/**
 * The changes journal: an append-only file in front of the SQLite file. A commit is one
 * record written here and made durable with one fdatasync; the store applies records to
 * SQLite later, many at a time, without syncing. A SQLite commit with synchronous=FULL
 * costs several 4 KB WAL frames, their checksums and an fsync (about 300 µs of CPU
 * each on the 2-core bench machine); a record costs one small write and one fdatasync of
 * a file whose size does not change (about 55 µs), which is what bounds a busy server.
 *
 * The file is grown in chunks of zeros, synced once, so that each fdatasync has no
 * size to record. Records are `[length u32][crc32 u32][JSON]`; their `seq` numbers run
 * on by one. Once SQLite holds every record durably, writing starts again at offset 0:
 * reading stops at the first record that is torn, blank, or does not continue the run,
 * which is also where the previous round's leftovers begin.
 */
import { closeSync, constants, fdatasync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import * as zlib from "node:zlib";
import type { Change } from "../core/changes.js";
import type { LogPosition } from "./store.js";

export interface JournalRecord {
  seq: number;
  /** The id of the database the record belongs to (schema 9 on; absent in older records). */
  db?: string;
  changes: Change[];
  /** The log position the store reaches with this record. */
  position?: LogPosition;
}

/** Bytes of zeros added at a time when the file is full. */
export const GROW_BYTES = 1 << 20;
const HEADER = 8;

/** The journal beside a database file. */
export const journalPathOf = (db: string) => `${db}-changes`;

export class ChangeJournal {
  readonly #fd: number;
  /** Where the next record goes. */
  #end = 0;
  /** The length of the record written at `#end` and waiting for its sync; 0 when none waits. */
  #written = 0;
  /** How the last record's sync went: a `syncLater` whose record was synced meanwhile (by `sync` or `close`) reports that. */
  #lastSync: unknown;
  #size: number;
  /** False while a record's frame may be whole at the end though it is not (yet) in the journal: written and waiting, or refused. */
  #erased = true;
  /** The records found on opening, in order, before any append. */
  readonly recovered: JournalRecord[];

  constructor(path: string) {
    let created = false;
    try {
      this.#fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      this.#fd = openSync(path, constants.O_RDWR);
    }
    // A new name in the folder lasts only once the folder itself is synced.
    if (created) syncFolder(dirname(path));
    this.#size = fstatSync(this.#fd).size;
    this.recovered = this.#read();
  }

  /** The bytes written since writing last started at the beginning. */
  get bytes(): number {
    return this.#end;
  }

  /** Writes `record` and returns once it is on disk. Throws when it cannot; the record is then not in the journal. */
  append(record: JournalRecord): void {
    this.write(record);
    this.sync();
  }

  /**
   * Writes `record` after the last one, without waiting for the disk: it is in the journal
   * once `sync` returns or `syncLater` reports success. Throws when it cannot; the record is
   * then not in the journal. One record at a time: write the next after this one is synced.
   * Returns the record's JSON, as written.
   */
  write(record: JournalRecord): string {
    if (this.#written > 0) throw new Error("a journal record is still waiting for its sync");
    const text = JSON.stringify(record);
    const body = Buffer.from(text);
    const frame = Buffer.allocUnsafe(HEADER + body.length);
    frame.writeUInt32LE(body.length, 0);
    frame.writeUInt32LE(crc32(body), 4);
    body.copy(frame, HEADER);
    if (this.#end + frame.length > this.#size) this.#grow(this.#end + frame.length);
    try {
      writeAll(this.#fd, frame, this.#end);
    } catch (err) {
      // Part of the frame may be in the file: it must not be read back whole later.
      this.#erase();
      throw err;
    }
    this.#written = frame.length;
    this.#erased = false;
    return text;
  }

  /** Whether a record is written and waits for its sync. */
  get busy(): boolean {
    return this.#written > 0;
  }

  /** Makes the record written durable; throws when it cannot, and the record is then not in the journal. */
  sync(): void {
    let failure: unknown;
    try {
      fdatasyncSync(this.#fd);
    } catch (err) {
      failure = err;
    }
    this.#synced(failure);
    if (failure !== undefined) throw failure;
  }

  /** As `sync`, with the wait for the disk on libuv's thread pool, off the event loop: `done` gets the failure, if any. */
  syncLater(done: (err: unknown) => void): void {
    fdatasync(this.#fd, (err) => {
      if (this.busy) this.#synced(err ?? undefined);
      done(this.#lastSync);
    });
  }

  #synced(failure: unknown): void {
    this.#lastSync = failure;
    if (failure !== undefined) {
      // A whole frame may be in the file though its sync failed: the commit was refused, so it must not be read back.
      this.#written = 0;
      this.#erase();
      return;
    }
    this.#end += this.#written;
    this.#written = 0;
    this.#erased = true;
  }

  /** Starts writing at the beginning again: call only once every record so far is durable elsewhere, and none waits for its sync. */
  restart(): void {
    if (this.busy) throw new Error("a journal record is still waiting for its sync");
    this.#end = 0;
  }

  /** Gives the file system back the zeros beyond the last record, for SQLite to use on a full disk. */
  releaseSpare(): void {
    const end = this.#end + this.#written;
    ftruncateSync(this.#fd, end);
    this.#size = end;
  }

  /** Closes the file; a record still waiting for its sync is synced first (or, failing that, erased). */
  close(): void {
    if (this.busy) {
      try {
        this.sync();
      } catch {
        // Erased, or marked for the erase below.
      }
    }
    if (!this.#erased) this.#erase();
    closeSync(this.#fd);
  }

  /** Blanks the header at the end, best effort; until that succeeds (or a later append overwrites it), `close` tries again. */
  #erase(): void {
    try {
      writeAll(this.#fd, Buffer.alloc(HEADER), this.#end);
      fdatasyncSync(this.#fd);
      this.#erased = true;
    } catch {
      this.#erased = false;
    }
  }

  #grow(needed: number): void {
    const size = Math.max(needed, this.#size + GROW_BYTES);
    writeAll(this.#fd, Buffer.alloc(size - this.#size), this.#size);
    fsyncSync(this.#fd);
    this.#size = size;
  }

  #read(): JournalRecord[] {
    const records: JournalRecord[] = [];
    const header = Buffer.alloc(HEADER);
    let at = 0;
    while (at + HEADER <= this.#size) {
      readSync(this.#fd, header, 0, HEADER, at);
      const length = header.readUInt32LE(0);
      if (length === 0 || at + HEADER + length > this.#size) break;
      const body = Buffer.alloc(length);
      readSync(this.#fd, body, 0, length, at + HEADER);
      if (crc32(body) !== header.readUInt32LE(4)) break;
      let record: JournalRecord;
      try {
        record = JSON.parse(body.toString("utf8")) as JournalRecord;
      } catch {
        break;
      }
      const last = records[records.length - 1];
      if (last !== undefined && record.seq !== last.seq + 1) break;
      records.push(record);
      at += HEADER + length;
    }
    this.#end = at;
    return records;
  }
}

/** writeSync may write less than asked (a disk filling up): go on until all is written, or it throws. */
function writeAll(fd: number, data: Buffer, at: number): void {
  for (let done = 0; done < data.length; ) {
    const n = writeSync(fd, data, done, data.length - done, at + done);
    if (n <= 0) throw new Error(`wrote nothing at ${at + done}`);
    done += n;
  }
}

function syncFolder(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** zlib's crc32 where Node has it (20.15 and later), else the same sum in JavaScript. */
const crc32: (data: Buffer) => number =
  (zlib as { crc32?: (data: Buffer) => number }).crc32 ??
  ((data) => {
    let c = -1;
    for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  });
