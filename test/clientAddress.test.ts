/** Client keys and trusted proxies: address parsing, IPv6 /64 grouping, X-Forwarded-For. */
import { describe, expect, it } from "vitest";
import { TrustedProxies, addressKey, parseIp, type Ip } from "../src/server/clientAddress.js";

function ip(text: string): Ip {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`not an address: ${text}`);
  return parsed;
}

describe("addressKey", () => {
  it("keeps an IPv4 address as it is", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("127.0.0.1")).toBe("127.0.0.1");
  });

  it("takes an IPv4-mapped IPv6 address as its IPv4 address, however it is written", () => {
    expect(addressKey("::ffff:1.2.3.4")).toBe("1.2.3.4");
    expect(addressKey("::FFFF:1.2.3.4")).toBe("1.2.3.4");
    expect(addressKey("::ffff:0102:0304")).toBe("1.2.3.4");
    expect(addressKey("0:0:0:0:0:ffff:1.2.3.4")).toBe("1.2.3.4");
  });

  it("groups IPv6 addresses by /64, one key for every spelling", () => {
    const spellings = [
      "2001:db8:1:2::1",
      "2001:DB8:1:2:0:0:0:1",
      "2001:0db8:0001:0002:ffff:ffff:ffff:ffff",
      "2001:db8:1:2:abcd::",
      "2001:db8:1:2::1%eth0",
    ];
    expect(new Set(spellings.map(addressKey))).toEqual(new Set(["2001:db8:1:2::/64"]));
    expect(addressKey("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
  });

  it("writes the /64 in RFC 5952 form: lower case, the longest run of zeros as ::", () => {
    expect(addressKey("2001:db8::1")).toBe("2001:db8::/64");
    expect(addressKey("::1")).toBe("::/64");
    expect(addressKey("fe80::1")).toBe("fe80::/64");
    expect(addressKey("2001:0:0:5::1")).toBe("2001:0:0:5::/64");
    expect(addressKey("2001:0:5:0::1")).toBe("2001:0:5::/64");
    expect(addressKey("ABCD:EF01:2345:6789::")).toBe("abcd:ef01:2345:6789::/64");
    expect(addressKey("::ffff:0:1.2.3.4")).toBe("::/64");
  });

  it("leaves text that is not an address as its own key", () => {
    expect(addressKey(undefined)).toBe("unknown");
    expect(addressKey("not-an-address")).toBe("not-an-address");
    expect(parseIp("1.2.3")).toBeUndefined();
    expect(parseIp("01.2.3.4")).toBeUndefined();
    expect(parseIp("1.2.3.4:80")).toBeUndefined();
    expect(parseIp("2001:db8::1::2")).toBeUndefined();
  });
});

describe("TrustedProxies", () => {
  const proxies = new TrustedProxies(["10.0.0.0/8", "192.0.2.10", "2001:db8:ff::/48", "::1", "::ffff:172.16.0.0/108"]);

  it("matches addresses and CIDR ranges of both families, IPv4-mapped peers as IPv4", () => {
    expect(proxies.has(ip("10.200.3.4"))).toBe(true);
    expect(proxies.has(ip("::ffff:10.1.1.1"))).toBe(true);
    expect(proxies.has(ip("11.0.0.1"))).toBe(false);
    expect(proxies.has(ip("192.0.2.10"))).toBe(true);
    expect(proxies.has(ip("192.0.2.11"))).toBe(false);
    expect(proxies.has(ip("2001:db8:ff:1234::5"))).toBe(true);
    expect(proxies.has(ip("2001:db8:fe::5"))).toBe(false);
    expect(proxies.has(ip("0:0:0:0:0:0:0:1"))).toBe(true);
    expect(proxies.has(ip("172.16.9.9"))).toBe(true);
    expect(proxies.has(ip("172.32.0.1"))).toBe(false);
    expect(proxies.has(undefined)).toBe(false);
    expect(new TrustedProxies([]).has(ip("127.0.0.1"))).toBe(false);
  });

  it("matches ranges whose prefix is not a whole number of bytes", () => {
    const odd = new TrustedProxies(["100.64.0.0/10"]);
    expect(odd.has(ip("100.64.0.1"))).toBe(true);
    expect(odd.has(ip("100.127.255.255"))).toBe(true);
    expect(odd.has(ip("100.128.0.0"))).toBe(false);
    expect(new TrustedProxies(["0.0.0.0/0"]).has(ip("8.8.8.8"))).toBe(true);
  });

  it("refuses entries that are not an address or a range, naming them", () => {
    for (const bad of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8/8", "proxy.example", "2001:db8::/129", "::ffff:10.0.0.0/64", "10.0.0.0/x"]) {
      expect(() => new TrustedProxies([bad]), bad).toThrow(bad);
    }
  });

  it("takes the right-most X-Forwarded-For entry that is not a trusted proxy", () => {
    const proxy = ip("10.0.0.1");
    const client = (header: string | string[] | undefined) => proxies.forwardedClient(proxy, header);
    expect(client("203.0.113.7")).toEqual(ip("203.0.113.7"));
    // The client may write anything before; only the right-most untrusted entry is believed.
    expect(client("1.1.1.1, 203.0.113.7")).toEqual(ip("203.0.113.7"));
    expect(client("203.0.113.7, 10.9.9.9,192.0.2.10")).toEqual(ip("203.0.113.7"));
    expect(client(["1.1.1.1", "203.0.113.7, 10.9.9.9"])).toEqual(ip("203.0.113.7"));
    expect(client("2001:db8:1:2::1")).toEqual(ip("2001:db8:1:2::1"));
    // Every entry a proxy: the left-most.
    expect(client("10.1.1.1, 10.2.2.2")).toEqual(ip("10.1.1.1"));
  });

  it("falls back to the proxy itself when the header is missing or malformed on the way", () => {
    const proxy = ip("10.0.0.1");
    for (const header of [undefined, "", "garbage", "203.0.113.7:x", "203.0.113.7,", "203.0.113.7, 10.9.9.9, unknown", "[2001:db8::1"]) {
      expect(proxies.forwardedClient(proxy, header), String(header)).toEqual(proxy);
    }
    // Some proxies add the client's port, or bracket IPv6.
    expect(proxies.forwardedClient(proxy, "203.0.113.7:4711")).toEqual(ip("203.0.113.7"));
    expect(proxies.forwardedClient(proxy, "[2001:db8::1]:443, 10.9.9.9")).toEqual(ip("2001:db8::1"));
    expect(proxies.forwardedClient(proxy, "[2001:db8::1]")).toEqual(ip("2001:db8::1"));
    // Junk left of the client it trusts does not matter.
    expect(proxies.forwardedClient(proxy, "junk, 203.0.113.7")).toEqual(ip("203.0.113.7"));
  });
});
