/**
 * The SDK as people get it: the packed package's `chat-server/client` imported from
 * plain Node (compiled JavaScript and its .d.ts, no TypeScript tooling), and the one
 * file the server serves at /chat-client.js imported by a page in Chromium.
 */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, skipBrowser } from "./helpers/browser.js";
import { startHarness, type Harness } from "./helpers/server.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "chat-sdk-"));
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the SDK package", { timeout: 120_000 }, () => {
  it("imports from plain Node as chat-server/client, with its types, and talks to the server", async () => {
    execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
    const installed = join(dir, "app", "node_modules", "chat-server");
    mkdirSync(installed, { recursive: true });
    execFileSync("tar", ["-xzf", join(dir, tarball), "-C", installed, "--strip-components=1"]);
    expect(existsSync(join(installed, "dist", "client", "index.d.ts"))).toBe(true);
    // Node 20 has no global WebSocket: the app brings ws, as the README says.
    const ws = createRequire(import.meta.url).resolve("ws");
    const script = join(dir, "app", "check.mjs");
    writeFileSync(
      script,
      `import { ChatClient } from "chat-server/client";
import WebSocket from ${JSON.stringify(ws)};
const c = await ChatClient.connect(process.argv[2], { WebSocket });
const { ts } = await c.request("ping");
console.log(JSON.stringify({ user: c.user.id, ts }));
c.close();
`,
    );
    // Not execFileSync: the server runs in this process and must go on answering.
    const { stdout } = await promisify(execFile)(process.execPath, [script, h.url], { cwd: join(dir, "app"), encoding: "utf8", timeout: 30_000 });
    const out = JSON.parse(stdout) as { user: string; ts: string };
    expect(out.user).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(out.ts)).not.toBeNaN();
  });

  it.skipIf(skipBrowser)("loads in a page as one module from /chat-client.js and talks to the server", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(h.url.replace("ws:", "http:").replace(/\/ws$/, "/"));
      // A string, so that the test runner's transform leaves its import() alone.
      const result = (await page.evaluate(`(async () => {
        const sdk = await import("/chat-client.js");
        const c = await sdk.ChatClient.connect(${JSON.stringify(h.url)});
        const { ts } = await c.request("ping");
        c.close();
        return ts;
      })()`)) as string;
      expect(Date.parse(result)).not.toBeNaN();
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
