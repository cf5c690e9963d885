/**
 * Driving the chat page in browser tests: a person is a fresh browser context (its own
 * storage) with the page open; problems (console errors, page errors, requests to
 * another host) are collected for the test to check; screenshots are numbered per file.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { launchChromium } from "./browser.js";
import { killChildren, startChild } from "./process.js";

export const SHOTS = fileURLToPath(new URL("../../test-output/screenshots/", import.meta.url));

export interface Person {
  context: BrowserContext;
  page: Page;
}

export interface PersonOptions {
  viewport?: { width: number; height: number };
  /** Runs in the page before its own script (e.g. a stand-in for Notification). */
  initScript?: string;
  /** Does not wait for the page to be connected (for pages that cannot connect yet). */
  noWait?: boolean;
  /** The page's clock starts at this time (ms) and runs on from there. */
  clockAt?: number;
}

export class ChatBrowser {
  readonly problems: string[] = [];
  #step = 0;
  readonly #browser: Browser;
  readonly #prefix: string;

  constructor(browser: Browser, prefix: string) {
    this.#browser = browser;
    this.#prefix = prefix;
    mkdirSync(SHOTS, { recursive: true });
  }

  /** A fresh browser context (a separate person) with one page on the chat at `base`. */
  async person(who: string, base: string, options: PersonOptions = {}): Promise<Person> {
    const context = await this.#browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 760 }, locale: "en-GB", timezoneId: "Europe/London" });
    context.setDefaultTimeout(15_000);
    const host = new URL(base).host;
    context.on("request", (req) => {
      if (new URL(req.url()).host !== host) this.problems.push(`${who} requested another host: ${req.url()}`);
    });
    if (options.initScript) await context.addInitScript(options.initScript);
    if (options.clockAt !== undefined) await context.clock.install({ time: options.clockAt });
    const page = await context.newPage();
    this.watch(who, page);
    await page.goto(base);
    if (!options.noWait) await ready(page);
    return { context, page };
  }

  /** Collects console errors and page errors of a page (one opened later in a context too). */
  watch(who: string, page: Page): void {
    page.on("console", (msg) => {
      // A WebSocket refused or cut on purpose is logged by Chromium itself, not by the page.
      if (msg.type() === "error" && !/WebSocket connection to .* failed/.test(msg.text()) && !/Failed to load resource/.test(msg.text())) {
        this.problems.push(`${who} console: ${msg.text()}`);
      }
    });
    page.on("pageerror", (err) => this.problems.push(`${who} page error: ${err.message}`));
  }

  async shot(name: string, ...pages: [string, Page][]): Promise<void> {
    this.#step += 1;
    for (const [who, page] of pages) {
      await page.screenshot({ path: `${SHOTS}${this.#prefix}-${String(this.#step).padStart(2, "0")}-${name}-${who}.png` });
    }
  }
}

/** Connected, and signed into the account the page will use. */
export async function ready(page: Page): Promise<void> {
  await page.locator('body[data-state="open"]').waitFor();
  await page.waitForFunction(() => document.getElementById("me-name")?.textContent !== "…");
}

export async function pickName(page: Page, name: string): Promise<void> {
  const input = page.getByLabel("Pick a name so others know who you are");
  await input.fill(name);
  await input.press("Enter");
  await page.waitForFunction((n) => document.getElementById("me-name")?.textContent === n, name);
}

export const roomButton = (page: Page, list: "Your rooms" | "Other rooms", name: string): Locator =>
  page.getByRole("list", { name: list }).getByRole("button", { name: new RegExp(`^${name}`) });
export const dmButton = (page: Page, name: string): Locator => page.getByRole("list", { name: "Direct messages" }).getByRole("button", { name: new RegExp(`^${name}`) });
/** A message whose text contains `text` (a RegExp is matched against the message's text alone). */
export const message = (page: Page, text: string | RegExp): Locator => page.locator("#messages .msg").filter({ has: page.locator(".msg-text", { hasText: text }) });
/** A message of one's own in a given state: sending, sent or failed. */
export const mine = (page: Page, state: "sending" | "sent" | "failed", text: string | RegExp): Locator =>
  page.locator(`#messages .msg[data-state="${state}"]`).filter({ has: page.locator(".msg-text", { hasText: text }) });
export const composer = (page: Page): Locator => page.locator("#composer-input");

export async function createRoom(page: Page, name: string): Promise<void> {
  await page.getByLabel("New room name").fill(name);
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("heading", { name, exact: true }).waitFor();
}

export async function joinRoom(page: Page, name: string): Promise<void> {
  await roomButton(page, "Other rooms", name).click();
  await page.locator("#join-panel").getByRole("button", { name: "Join room" }).click();
  await roomButton(page, "Your rooms", name).waitFor();
}

/** Types into the message box and presses Enter. */
export async function say(page: Page, text: string): Promise<void> {
  await composer(page).click();
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

/** The texts of the messages shown, in order. */
export function texts(page: Page): Promise<string[]> {
  return page.locator("#messages .msg .msg-text").allTextContents();
}

/** What one file of page tests runs against: the server as `npm start` runs it (nothing kept on disk) and Chromium. */
export interface PageTest {
  /** The WebSocket URL and the page's address (http://127.0.0.1:PORT/). */
  wsUrl: string;
  base: string;
  browser: Browser;
  chat: ChatBrowser;
}

/** Starts the server (with `env`) and Chromium; the screenshots of this file are named `<prefix>-…`. */
export async function startPageTest(prefix: string, env: Record<string, string> = {}): Promise<PageTest> {
  const wsUrl = (await startChild(["--db", ":memory:"], env)).url;
  const browser = await launchChromium();
  return { wsUrl, base: wsUrl.replace(/^ws:/, "http:").replace(/\/ws$/, "/"), browser, chat: new ChatBrowser(browser, prefix) };
}

/** Ends what startPageTest started. */
export async function stopPageTest(browser: Browser | undefined): Promise<void> {
  await browser?.close();
  killChildren();
}
