/** `/asyncapi.json` on a real server: the committed document, with the page's security headers, behind the Host check. */
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { ASYNCAPI_FILE } from "../src/protocol/asyncapiFile.js";
import { httpUrl, useHarness } from "./helpers/server.js";

// The address the harness listens on is a public host, so that a foreign Host header can be tried.
const harness = useHarness({ publicHosts: ["127.0.0.1"] });

function statusWithHost(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("GET /asyncapi.json", () => {
  it("serves the committed document as JSON, with the security headers", async () => {
    const res = await fetch(httpUrl(harness().server, "/asyncapi.json"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await res.json()).toEqual(JSON.parse(readFileSync(ASYNCAPI_FILE, "utf8")));
  });

  it("answers HEAD with the length and no body, and refuses other methods with 405", async () => {
    const url = httpUrl(harness().server, "/asyncapi.json");
    const get = await fetch(url);
    const length = (await get.arrayBuffer()).byteLength;
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBe(length);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const post = await fetch(url, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("is refused with 421 for a Host that is not the server's, as the page is", async () => {
    const { port } = harness().server;
    expect(await statusWithHost(port, "/asyncapi.json", "evil.example")).toBe(421);
    expect(await statusWithHost(port, "/asyncapi.json", `127.0.0.1:${port}`)).toBe(200);
  });
});
