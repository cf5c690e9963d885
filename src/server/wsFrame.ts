/**
 * Server-to-client WebSocket text frames (RFC 6455 §5.2: FIN, opcode 1, no mask),
 * encoded once per message and written as-is to every recipient's socket. ws
 * would frame each send again; a fan-out to N sockets needs the bytes only once.
 */

/** The complete frame: header and UTF-8 payload in one buffer. */
export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, headerLength, "utf8");
  return frame;
}

/**
 * Remembers the last frame encoded: the hub hands one string to each recipient in
 * turn, so consecutive sends of the same string reuse its bytes.
 */
export class FrameCache {
  #text: string | undefined;
  #frame: Buffer | undefined;

  frameOf(text: string): Buffer {
    if (text !== this.#text || this.#frame === undefined) {
      this.#frame = encodeTextFrame(text);
      this.#text = text;
    }
    return this.#frame;
  }
}
