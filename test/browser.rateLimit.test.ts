/**
 * The page under a real rate limit, tighter than the default, so that typing outruns it:
 * the page must wait it out, in order, rather than lose or reorder messages. Its own
 * file so that it runs beside the slow-link tests rather than after them.
 * Skips as helpers/browser.ts says.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipBrowser } from "./helpers/browser.js";
import { ChatBrowser, composer, message, pickName, texts, startPageTest, stopPageTest } from "./helpers/chatPage.js";

describe.skipIf(skipBrowser)("the page under a real rate limit", () => {
  let base: string;
  let browser: Browser;
  let chat: ChatBrowser;

  beforeAll(async () => {
    // The default is 60 at once, 20 a second.
    ({ base, browser, chat } = await startPageTest("ratelimit", { CHAT_RATE_PER_SECOND: "10", CHAT_RATE_BURST: "20" }));
  }, 60_000);
  afterAll(() => stopPageTest(browser));

  it("100 quick sends are all posted, in order, with no error", async () => {
    const { page: alice } = await chat.person("alice", base);
    const { page: bob } = await chat.person("bob", base);
    await pickName(alice, "Quick");
    await composer(alice).click();
    const sent = Array.from({ length: 100 }, (_, i) => `quick ${i + 1}`);
    for (const text of sent) {
      await alice.keyboard.type(text);
      await alice.keyboard.press("Enter");
    }
    await message(bob, /^quick 100$/).waitFor({ timeout: 60_000 });
    await expect.poll(() => alice.locator('#messages .msg[data-state="sent"]').count(), { timeout: 60_000 }).toBe(100);
    expect(await texts(bob)).toEqual(sent);
    expect(await alice.locator('#messages .msg[data-state="failed"]').count()).toBe(0);
    expect(await alice.locator(".notice-error").count()).toBe(0);
    await chat.shot("one-hundred", ["alice", alice], ["bob", bob]);
    expect(chat.problems).toEqual([]);
  }, 150_000);
});
