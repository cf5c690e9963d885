/** The Host and Origin rules, as pure functions (the real-socket side is in server.transport.test.ts). */
import { describe, expect, it } from "vitest";
import { hostAllowed, hostName, originAllowed } from "../src/server/origins.js";

describe("hostName", () => {
  it("drops the port, brackets, case and a trailing dot", () => {
    expect(hostName("Chat.Example:8080")).toBe("chat.example");
    expect(hostName("chat.example.")).toBe("chat.example");
    expect(hostName("[::1]:8080")).toBe("::1");
    expect(hostName("[2001:DB8::1]")).toBe("2001:db8::1");
    expect(hostName("::1")).toBe("::1");
    expect(hostName("127.0.0.1:80")).toBe("127.0.0.1");
    expect(hostName("")).toBeUndefined();
    expect(hostName(undefined)).toBeUndefined();
  });
});

describe("hostAllowed", () => {
  it("accepts any Host when no public hosts are set", () => {
    expect(hostAllowed("evil.example", [])).toBe(true);
    expect(hostAllowed(undefined, [])).toBe(true);
  });

  it("accepts only the listed names, ports ignored, and refuses a request without Host", () => {
    const hosts = ["chat.example", "[2001:db8::1]", "10.0.0.5:8080"];
    expect(hostAllowed("chat.example", hosts)).toBe(true);
    expect(hostAllowed("CHAT.EXAMPLE:443", hosts)).toBe(true);
    expect(hostAllowed("[2001:db8::1]:8080", hosts)).toBe(true);
    expect(hostAllowed("10.0.0.5", hosts)).toBe(true);
    expect(hostAllowed("evil.example", hosts)).toBe(false);
    expect(hostAllowed("chat.example.evil.example", hosts)).toBe(false);
    expect(hostAllowed(undefined, hosts)).toBe(false);
  });
});

describe("originAllowed", () => {
  it("admits clients without Origin, and any origin with *", () => {
    expect(originAllowed(undefined, "chat.example", [])).toBe(true);
    expect(originAllowed("https://evil.example", "chat.example", ["*"])).toBe(true);
  });

  it("with no list, admits only the same origin: Origin's host and port equal the Host header", () => {
    expect(originAllowed("http://127.0.0.1:8080", "127.0.0.1:8080", [])).toBe(true);
    expect(originAllowed("https://chat.example", "Chat.Example", [])).toBe(true);
    expect(originAllowed("http://127.0.0.1:8081", "127.0.0.1:8080", [])).toBe(false);
    expect(originAllowed("http://localhost:8080", "127.0.0.1:8080", [])).toBe(false);
    expect(originAllowed("https://evil.example", "chat.example", [])).toBe(false);
    expect(originAllowed("https://evil.example", undefined, [])).toBe(false);
    expect(originAllowed("null", "chat.example", [])).toBe(false);
    expect(originAllowed("not a url", "chat.example", [])).toBe(false);
  });

  it("admits listed origins, compared as origins", () => {
    const list = ["https://app.example", "https://Other.Example:8443/", "null"];
    expect(originAllowed("https://app.example", "chat.example", list)).toBe(true);
    expect(originAllowed("https://other.example:8443", "chat.example", list)).toBe(true);
    expect(originAllowed("http://app.example", "chat.example", list)).toBe(false);
    expect(originAllowed("null", "chat.example", list)).toBe(true);
  });
});
