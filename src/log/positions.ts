/**
 * Positions in the command log: stream ids `<ms>-<seq>` (Redis's format, which the
 * in-process log copies). A message's id and time come from its command's place in
 * the log, so that ids sort in log order on every node: a UUIDv7 whose timestamp is
 * the entry's millisecond and whose 74 "random" bits are the entry's sequence number
 * (42 bits) and the command's index within the entry (32 bits).
 */
export interface EntryId {
  ms: number;
  seq: number;
}

const SEQ_BITS_LOW = 30;
const MAX_SEQ = 2 ** 42;

export function parseEntryId(id: string): EntryId {
  const dash = id.indexOf("-");
  const ms = Number(id.slice(0, dash));
  const seq = Number(id.slice(dash + 1));
  if (dash < 1 || !Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) throw new Error(`not a log position: ${JSON.stringify(id)}`);
  return { ms, seq };
}

export function formatEntryId(e: EntryId): string {
  return `${e.ms}-${e.seq}`;
}

/** Negative, zero or positive as `a` comes before, at or after `b`; undefined comes before everything. */
export function compareEntryIds(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const x = parseEntryId(a);
  const y = parseEntryId(b);
  return x.ms - y.ms || x.seq - y.seq;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** The id of the message made by command `index` of entry `e`. */
export function messageIdAt(e: EntryId, index: number): string {
  if (e.seq >= MAX_SEQ || index >= 2 ** 32) throw new Error(`log position ${formatEntryId(e)}/${index} is beyond what a message id can hold`);
  const t = hex(e.ms, 12);
  const seqHigh = Math.floor(e.seq / 2 ** SEQ_BITS_LOW); // 12 bits: UUIDv7's rand_a
  const seqLow = e.seq % 2 ** SEQ_BITS_LOW;
  // The variant's two bits (10) above the low 30 bits of the sequence, then the index.
  const variantWord = hex(0x80000000 + seqLow, 8);
  return `${t.slice(0, 8)}-${t.slice(8)}-7${hex(seqHigh, 3)}-${variantWord.slice(0, 4)}-${variantWord.slice(4)}${hex(index, 8)}`;
}

/** The time of entry `e`, as commands carry it. */
export function timeAt(e: EntryId): string {
  return new Date(e.ms).toISOString();
}

/** The millisecond a UUIDv7 was made in. */
export function msOfUuidv7(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
