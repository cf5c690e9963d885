/**
 * Who a connection comes from, for per-client caps and quotas. The client is the
 * TCP peer, or, when the peer is a trusted reverse proxy, the right-most address in
 * X-Forwarded-For that is not itself a trusted proxy. Its key is an IPv4 address as
 * is (IPv4-mapped IPv6 included) and an IPv6 address by its /64, since one subscriber
 * usually holds a whole /64 and would otherwise have 2^64 keys.
 */
import { isIPv4, isIPv6 } from "node:net";

/** An address as bytes: 4 for IPv4 (IPv4-mapped IPv6 included), 16 for IPv6. */
export interface Ip {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

function v4Bytes(text: string): Uint8Array | undefined {
  return isIPv4(text) ? Uint8Array.from(text.split(".").map(Number)) : undefined;
}

function v6Bytes(text: string): Uint8Array | undefined {
  if (!isIPv6(text)) return undefined;
  const address = text.split("%")[0]!.toLowerCase();
  const words = (part: string): number[] =>
    part === ""
      ? []
      : part.split(":").flatMap((group) => {
          const v4 = group.includes(".") ? v4Bytes(group) : undefined;
          return v4 ? [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!] : [parseInt(group, 16)];
        });
  const gap = address.indexOf("::");
  const head = words(gap < 0 ? address : address.slice(0, gap));
  const tail = gap < 0 ? [] : words(address.slice(gap + 2));
  const all = [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Parses an IPv4 or IPv6 address (a zone id is dropped); undefined when it is neither. */
export function parseIp(text: string | undefined): Ip | undefined {
  if (text === undefined) return undefined;
  const v4 = v4Bytes(text.trim());
  if (v4) return { family: 4, bytes: v4 };
  const v6 = v6Bytes(text.trim());
  if (!v6) return undefined;
  return isV4Mapped(v6) ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

/** RFC 5952 text of eight 16-bit words: lower case, the longest run of two or more zero words as `::`. */
function formatV6(words: readonly number[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < words.length; ) {
    let j = i;
    while (j < words.length && words[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLength).join(":")}`;
}

/** The key caps and quotas count under: `1.2.3.4`, or `2001:db8:1:2::/64`. */
export function ipKey(ip: Ip): string {
  if (ip.family === 4) return ip.bytes.join(".");
  const words = Array.from({ length: 8 }, (_, i) => (i < 4 ? (ip.bytes[2 * i]! << 8) | ip.bytes[2 * i + 1]! : 0));
  return `${formatV6(words)}/64`;
}

/** The key of an address as text; text that is not an address is its own key. */
export function addressKey(address: string | undefined): string {
  const ip = parseIp(address);
  return ip ? ipKey(ip) : (address ?? "unknown");
}

interface Range {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
}

function parseRange(entry: string): Range {
  const [address, bits, extra] = entry.split("/");
  const ip = parseIp(address);
  const written = address !== undefined && isIPv6(address.trim()) ? 128 : 32;
  let prefix = bits === undefined ? written : Number(bits);
  if (!ip || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > written || (bits !== undefined && bits.trim() === "")) {
    throw new TypeError(`trusted proxy ${JSON.stringify(entry)} is not an IP address or CIDR range`);
  }
  // An IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 range it maps.
  if (ip.family === 4 && written === 128) {
    if (prefix < 96) throw new TypeError(`trusted proxy ${JSON.stringify(entry)}: an IPv4-mapped range needs a prefix of at least 96`);
    prefix -= 96;
  }
  return { family: ip.family, bytes: ip.bytes, prefix };
}

function inRange(ip: Ip, range: Range): boolean {
  if (ip.family !== range.family) return false;
  const whole = range.prefix >> 3;
  for (let i = 0; i < whole; i++) if (ip.bytes[i] !== range.bytes[i]) return false;
  const rest = range.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip.bytes[whole]! & mask) === (range.bytes[whole]! & mask);
}

/** An X-Forwarded-For entry without the port some proxies add (`1.2.3.4:5678`, `[2001:db8::1]:443`) or the brackets. */
function withoutPort(entry: string): string {
  const text = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(text);
  return v4 ? v4[1]! : text;
}

/** The reverse proxies whose X-Forwarded-For is believed: addresses and CIDR ranges, IPv4 and IPv6. */
export class TrustedProxies {
  readonly #ranges: readonly Range[];

  /** Throws a TypeError naming the first entry that is neither an address nor a range. */
  constructor(entries: readonly string[]) {
    this.#ranges = entries.map(parseRange);
  }

  has(ip: Ip | undefined): boolean {
    return ip !== undefined && this.#ranges.some((r) => inRange(ip, r));
  }

  /**
   * The client a trusted proxy forwarded: the right-most X-Forwarded-For entry that is
   * not a trusted proxy (entries to its left were written by the client and prove
   * nothing). When every entry is a proxy, the left-most; when the header is missing or
   * an entry on the way is not an address, the proxy itself.
   */
  forwardedClient(proxy: Ip, header: string | string[] | undefined): Ip {
    const entries = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",");
    let client: Ip | undefined;
    for (let i = entries.length - 1; i >= 0; i--) {
      const ip = parseIp(withoutPort(entries[i]!));
      if (!ip) return proxy;
      client = ip;
      if (!this.has(ip)) return ip;
    }
    return client ?? proxy;
  }
}
