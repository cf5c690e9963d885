/**
 * Message ids: UUIDv7 (RFC 9562), strictly increasing within the process so that a
 * conversation's ids sort in the order the server accepted its messages. The 12
 * bits after the timestamp count messages within one millisecond (and carry into
 * the timestamp when they run out); the rest is random, drawn from a pool refilled
 * 4 KiB at a time: one getrandom call per 512 ids rather than one per id.
 */
import { randomFillSync } from "node:crypto";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export class MessageIds {
  #msecs = -1;
  #seq = 0;

  /** `after`: an id every new one must sort above (the last one stored), if any. */
  constructor(after?: string) {
    if (after === undefined) return;
    const hex = after.replaceAll("-", "");
    this.#msecs = parseInt(hex.slice(0, 12), 16);
    this.#seq = parseInt(hex.slice(13, 16), 16);
  }
  readonly #pool = Buffer.alloc(4096);
  #offset = this.#pool.length;

  next(now: number = Date.now()): string {
    if (now > this.#msecs) {
      this.#msecs = now;
      this.#seq = 0;
    } else if (++this.#seq > 0xfff) {
      // 4096 ids in one millisecond: borrow the next one, as RFC 9562 §6.2 allows.
      this.#msecs++;
      this.#seq = 0;
    }
    if (this.#offset + 8 > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const r = this.#pool;
    const o = this.#offset;
    this.#offset += 8;
    const ms = this.#msecs;
    const high = Math.floor(ms / 0x10000); // top 32 of the 48 timestamp bits
    const low = ms % 0x10000;
    return (
      (high >>> 0).toString(16).padStart(8, "0") +
      "-" +
      low.toString(16).padStart(4, "0") +
      "-" +
      HEX[0x70 | (this.#seq >>> 8)]! +
      HEX[this.#seq & 0xff]! +
      "-" +
      HEX[0x80 | (r[o]! & 0x3f)]! +
      HEX[r[o + 1]!]! +
      "-" +
      HEX[r[o + 2]!]! +
      HEX[r[o + 3]!]! +
      HEX[r[o + 4]!]! +
      HEX[r[o + 5]!]! +
      HEX[r[o + 6]!]! +
      HEX[r[o + 7]!]!
    );
  }
}
