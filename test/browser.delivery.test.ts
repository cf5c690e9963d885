/**
 * Delivery on a slow link, end to end: the real server as `npm start` runs it, the
 * machine's Chromium, and between them for one person a proxy that holds every byte
 * the server sends for 600 ms (helpers/delayProxy.ts), can stall replies past the
 * SDK's timeout, cut the connection and refuse new ones. The others are on a direct
 * link, to see what really arrived. No assertion is about time: each waits for a state.
 * Skips as helpers/browser.ts says.
 */
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipBrowser } from "./helpers/browser.js";
import { ChatBrowser, composer, createRoom, joinRoom, message, mine, pickName, roomButton, say, texts, startPageTest, stopPageTest } from "./helpers/chatPage.js";
import { startDelayProxy, type DelayProxy } from "./helpers/delayProxy.js";

const README_PICTURE = fileURLToPath(new URL("../web/screenshot.png", import.meta.url));
/** Past the SDK's default request timeout (10 s), which the page keeps. */
const REQUEST_TIMEOUT_MS = 10_500;

describe.skipIf(skipBrowser)("the page on a slow link", () => {
  let base: string;
  let proxy: DelayProxy;
  let browser: Browser;
  let chat: ChatBrowser;

  beforeAll(async () => {
    ({ base, browser, chat } = await startPageTest("delivery"));
    proxy = await startDelayProxy(Number(new URL(base).port), { delayMs: 600 });
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await stopPageTest(browser);
  });

  it("keeps what is typed while sends are on their way, shows each as sending then sent, and posts every one in order", async () => {
    const { page: alice } = await chat.person("alice", proxy.base);
    const { page: bob } = await chat.person("bob", base);
    await pickName(alice, "Alice");
    await pickName(bob, "Bob");
    await createRoom(alice, "Slow lane");
    await joinRoom(bob, "Slow lane");
    await roomButton(alice, "Your rooms", "Slow lane").click();
    await alice.locator("#member-list li").nth(1).waitFor();

    // Enter, and go on typing: the reply to the first must not erase the second.
    await say(alice, "first message");
    await mine(alice, "sending", "first message").waitFor();
    await alice.keyboard.type("second thoughts");
    await mine(alice, "sent", "first message").waitFor();
    expect(await composer(alice).inputValue()).toBe("second thoughts");
    await chat.shot("typed-on-while-sending", ["alice", alice]);
    await composer(alice).fill("");

    // "one" Enter "two" Enter at once: both arrive, in that order.
    await alice.keyboard.type("one");
    await alice.keyboard.press("Enter");
    await alice.keyboard.type("two");
    await alice.keyboard.press("Enter");
    expect(await composer(alice).inputValue()).toBe("");
    await message(bob, /^two$/).waitFor();
    await mine(alice, "sent", /^two$/).waitFor();

    // A burst of quick sends: every one posted, in order, none failed, no error shown.
    for (let i = 1; i <= 12; i++) {
      await alice.keyboard.type(`burst ${i}`);
      await alice.keyboard.press("Enter");
    }
    await message(bob, "burst 12").waitFor();
    await expect.poll(() => alice.locator('#messages .msg[data-state="sent"]').count(), { timeout: 30_000 }).toBe(15);
    expect(await texts(bob)).toEqual(["first message", "one", "two", ...Array.from({ length: 12 }, (_, i) => `burst ${i + 1}`)]);
    expect(await alice.locator('#messages .msg[data-state="failed"], #messages .msg[data-state="sending"]').count()).toBe(0);
    expect(await alice.locator(".notice-error").count()).toBe(0);
    await chat.shot("burst-sent", ["alice", alice], ["bob", bob]);
    expect(chat.problems).toEqual([]);
  }, 120_000);

  it("a send whose answer never comes shows failed with Retry; a retry never doubles it", async () => {
    // Alice's clock is Playwright's, so that the SDK's 10 s request timeout is skipped over rather than waited out.
    const { page: alice } = await chat.person("alice2", proxy.base, { clockAt: Date.now() });
    const { page: bob } = await chat.person("bob2", base);
    const { page: carol } = await chat.person("carol2", base);
    await pickName(alice, "Ana");
    await pickName(bob, "Ben");
    await pickName(carol, "Cleo");
    await createRoom(alice, "Garden");
    await joinRoom(bob, "Garden");
    await joinRoom(carol, "Garden");
    await say(bob, "Morning! The tomatoes are finally red 🍅");
    await say(carol, "Lovely. Photos at https://example.com/garden please");
    await message(alice, "Lovely").waitFor();
    await alice.locator("#member-list li").nth(2).waitFor();

    // The link stalls: the message reaches the server, its answer does not come back in time.
    proxy.stall();
    await say(alice, "This one waits for an answer that never comes");
    await mine(alice, "sending", "This one waits").waitFor();
    await alice.clock.fastForward(REQUEST_TIMEOUT_MS);
    await mine(alice, "failed", "This one waits").getByRole("button", { name: "Retry" }).waitFor();
    await say(alice, "And this one is on its way");
    await mine(alice, "sending", "And this one is on its way").waitFor();
    // The picture in README: the member list, a failed message and a sending one (redrawn on request, so a test run leaves the tree as it was).
    if (process.env.UPDATE_README_PICTURE) await alice.screenshot({ path: README_PICTURE });
    await chat.shot("failed-and-sending", ["alice", alice]);

    // The link is back: the room's own push shows the first did arrive (same client_msg_id).
    proxy.resume();
    await mine(alice, "sent", "This one waits").waitFor({ timeout: 20_000 });
    await mine(alice, "sent", "And this one is on its way").waitFor({ timeout: 20_000 });
    await message(bob, "And this one is on its way").waitFor();
    expect(await message(bob, "This one waits").count()).toBe(1);

    // A direct message gets no push back to its sender: it stays failed until Retry, which reuses its client_msg_id.
    await message(alice, "Morning!").getByRole("button", { name: "Ben" }).click();
    await alice.getByText("No messages with Ben yet").waitFor();
    proxy.stall();
    await say(alice, "Only once, please");
    await mine(alice, "sending", "Only once, please").waitFor();
    await alice.clock.fastForward(REQUEST_TIMEOUT_MS);
    await mine(alice, "failed", "Only once, please").waitFor();
    proxy.resume();
    // What was held is through once the room's newer push is: then Retry.
    await say(bob, "Ping after the stall");
    await roomButton(alice, "Your rooms", "Garden").locator(".badge").waitFor({ timeout: 20_000 });
    await chat.shot("direct-failed", ["alice", alice]);
    await mine(alice, "failed", "Only once, please").getByRole("button", { name: "Retry" }).click();
    await mine(alice, "sent", "Only once, please").waitFor();
    await alice.locator("#messages .msg.pending").waitFor({ state: "detached" });
    expect(await message(alice, "Only once, please").count()).toBe(1);
    await bob.getByRole("list", { name: "Direct messages" }).getByRole("button", { name: /^Ana/ }).click();
    await message(bob, "Only once, please").waitFor();
    await bob.reload();
    await bob.locator('body[data-state="open"]').waitFor();
    await message(bob, "Only once, please").waitFor();
    expect(await message(bob, "Only once, please").count()).toBe(1);
    expect(chat.problems).toEqual([]);
  }, 150_000);

  it("counts down to the next try, offers Retry now, and comes back with nothing missed", async () => {
    const { page: alice } = await chat.person("alice3", proxy.base);
    const { page: bob } = await chat.person("bob3", base);
    await pickName(alice, "Aino");
    await pickName(bob, "Bo");
    await createRoom(bob, "Harbour");
    await joinRoom(alice, "Harbour");
    await say(bob, "before the storm");
    await message(alice, "before the storm").waitFor();

    // The server is out of reach.
    proxy.refuse(true);
    proxy.cut();
    await alice.getByRole("status").filter({ hasText: "Connection lost" }).first().waitFor();
    // The countdown counts: the same attempt, with fewer seconds to go.
    await alice.waitForFunction(
      () => {
        const w = window as unknown as { seen?: { attempt: string; s: number } };
        const m = /Trying again in (\d+) s \(attempt (\d+)\)/.exec(document.getElementById("status")?.textContent ?? "");
        if (!m) return false;
        const s = Number(m[1]);
        if (w.seen && w.seen.attempt === m[2] && s < w.seen.s) return true;
        if (s >= 2) w.seen = { attempt: m[2]!, s };
        return false;
      },
      undefined,
      { timeout: 40_000, polling: 100 },
    );
    await chat.shot("counting-down", ["alice", alice]);

    // Meanwhile: Bob writes, Alice writes (it waits), and an action shows it cannot be done now.
    for (let i = 1; i <= 3; i++) await say(bob, `while you were away ${i}`);
    await say(alice, "written while offline");
    await mine(alice, "sending", "written while offline").getByText("Waiting for the connection…").waitFor();
    await alice.getByLabel("New room name").fill("Lighthouse");
    await alice.getByRole("button", { name: "Create" }).click();
    const offlineError = alice.locator("#notice-sidebar .notice-error", { hasText: "not connected" });
    await offlineError.waitFor();

    // Retry now, while still out of reach: it says so.
    await alice.getByRole("button", { name: "Retry now" }).click();
    await alice.getByRole("status").filter({ hasText: "Still cannot reach the server" }).waitFor();
    await chat.shot("still-unreachable", ["alice", alice]);

    // Back: Retry now connects, the error about being offline goes, nothing is missed or doubled.
    proxy.refuse(false);
    await alice.getByRole("button", { name: "Retry now" }).click();
    await alice.getByRole("status").filter({ hasText: "Connected" }).waitFor();
    await offlineError.waitFor({ state: "detached" });
    await mine(alice, "sent", "written while offline").waitFor();
    await message(alice, "while you were away 3").waitFor();
    expect(await texts(alice)).toEqual(["before the storm", "while you were away 1", "while you were away 2", "while you were away 3", "written while offline"]);
    await message(bob, "written while offline").waitFor();
    expect(await message(bob, "written while offline").count()).toBe(1);
    await chat.shot("back-after-retry-now", ["alice", alice]);

    // A short drop the SDK resumes by itself: what was said meanwhile arrives as if nothing happened.
    proxy.refuse(true);
    proxy.cut();
    await alice.getByRole("status").filter({ hasText: "Connection lost" }).first().waitFor();
    await say(bob, "second gap 1");
    await say(bob, "second gap 2");
    proxy.refuse(false);
    await alice.getByRole("status").filter({ hasText: "Connected" }).waitFor({ timeout: 30_000 });
    await message(alice, "second gap 2").waitFor();
    expect((await texts(alice)).slice(-2)).toEqual(["second gap 1", "second gap 2"]);
    expect(await alice.locator(".notice-error").count()).toBe(0);
    expect(chat.problems).toEqual([]);
  }, 150_000);
});
