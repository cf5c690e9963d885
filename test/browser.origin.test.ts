/**
 * Origins as a browser sees them: the machine's Chromium, driven by playwright-core,
 * opens WebSockets to the chat server from a page of another origin (a second tiny
 * http server on another port) and from a rebound host name (Chromium's resolver maps
 * evil.example to 127.0.0.1, as DNS rebinding would).
 * Skips as helpers/browser.ts says.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Options } from "../src/config.js";
import { launchChromium, skipBrowser } from "./helpers/browser.js";
import { startHarness, type Harness } from "./helpers/server.js";

describe.skipIf(skipBrowser)("browser origins", () => {
  let browser: Browser;
  /** A page of another origin: same address, another port. */
  let other: Server;
  let otherBase: string;
  let h: Harness | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    other = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<!doctype html><title>another site</title><p>another site</p>");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
    browser = await launchChromium(["--host-resolver-rules=MAP evil.example 127.0.0.1"]);
  }, 60_000);

  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
    await h?.close();
    h = undefined;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => other?.close(resolve));
  });

  async function start(overrides: Partial<Options>): Promise<Harness> {
    h = await startHarness({ metricsPort: 0, ...overrides });
    return h;
  }

  /** A fresh context's page at `url`, and the status it was answered with. */
  async function visit(url: string): Promise<{ page: Page; status: number | undefined }> {
    const context = await browser.newContext();
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const res = await page.goto(url);
    return { page, status: res?.status() };
  }

  /** "open" when the page's `new WebSocket(url)` opens, else how it closed. */
  function tryWebSocket(page: Page, url: string): Promise<string> {
    return page.evaluate(
      (target) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(target);
          ws.onopen = () => {
            resolve("open");
            ws.close();
          };
          ws.onclose = (event) => resolve(`closed ${event.code}`);
        }),
      url,
    );
  }

  async function refusals(s: Harness, reason: string): Promise<number> {
    const text = await (await fetch(s.server.metricsUrl!)).text();
    return Number(new RegExp(`^chat_connections_refused_total\\{reason="${reason}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  }

  it("a page of another origin cannot open a WebSocket by default; the server's own page can", async () => {
    const s = await start({});
    const { page } = await visit(otherBase);
    expect(await tryWebSocket(page, `ws://127.0.0.1:${s.server.port}/ws`)).toBe("closed 1006");
    expect(await refusals(s, "origin")).toBe(1);

    const own = await visit(`http://127.0.0.1:${s.server.port}/`);
    expect(own.status).toBe(200);
    await own.page.locator('body[data-state="open"]').waitFor();
    expect(await refusals(s, "origin")).toBe(1);
  }, 30_000);

  it("with allowedOrigins * a page of another origin opens one", async () => {
    const s = await start({ allowedOrigins: ["*"] });
    const { page } = await visit(otherBase);
    expect(await tryWebSocket(page, `ws://127.0.0.1:${s.server.port}/ws`)).toBe("open");
  }, 30_000);

  it("a rebound host name passes as same-origin unless publicHosts is set; then its page and WebSocket get 421", async () => {
    const open = await start({});
    const rebound = await visit(`http://evil.example:${open.server.port}/`);
    expect(rebound.status).toBe(200);
    expect(await tryWebSocket(rebound.page, `ws://evil.example:${open.server.port}/ws`)).toBe("open");
    await rebound.page.context().close();
    await open.close();
    h = undefined;

    const s = await start({ publicHosts: ["127.0.0.1"] });
    const refused = await visit(`http://evil.example:${s.server.port}/`);
    expect(refused.status).toBe(421);
    expect(await tryWebSocket(refused.page, `ws://evil.example:${s.server.port}/ws`)).toBe("closed 1006");
    // The page, the WebSocket, and whatever else Chromium asks that host for (its favicon).
    expect(await refusals(s, "host")).toBeGreaterThanOrEqual(2);
    const own = await visit(`http://127.0.0.1:${s.server.port}/`);
    await own.page.locator('body[data-state="open"]').waitFor();
  }, 30_000);
});
