/**
 * The web page end to end: the real server as `npm start` runs it, the machine's
 * Chromium driven by playwright-core, separate browser contexts (separate people).
 * Each step leaves a screenshot in test-output/screenshots/ for a person to look at.
 * Skips as helpers/browser.ts says.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient, ChatError } from "../src/client/index.js";
import { skipBrowser } from "./helpers/browser.js";
import { ChatBrowser, message, ready, roomButton, startPageTest, stopPageTest } from "./helpers/chatPage.js";

describe.skipIf(skipBrowser)("the web page", () => {
  /** The page's address, e.g. http://127.0.0.1:PORT/ */
  let base: string;
  let wsUrl: string;
  let browser: Browser;
  let chat: ChatBrowser;

  beforeAll(async () => {
    ({ wsUrl, base, browser, chat } = await startPageTest("chat"));
  }, 60_000);
  afterAll(() => stopPageTest(browser));

  const person = async (who: string, options: Parameters<ChatBrowser["person"]>[2] = {}): Promise<{ page: Page }> => chat.person(who, base, options);
  const shot = (name: string, ...pages: [string, Page][]): Promise<void> => chat.shot(name, ...pages);

  /** Lobby messages sent straight through the SDK, waiting out any rate limit. */
  async function fillLobby(count: number): Promise<void> {
    const client = await ChatClient.connect(wsUrl, { WebSocket });
    await client.request("change_name", { username: "Archivist" });
    for (let i = 1; i <= count; i++) {
      for (;;) {
        try {
          await client.request("send_message", { room_id: "all", message: `lobby message ${i}` });
          break;
        } catch (err) {
          if (!(err instanceof ChatError) || err.code !== "rate_limited") throw err;
          await new Promise((r) => setTimeout(r, Number(err.details?.retry_after_ms ?? 100)));
        }
      }
    }
    client.close();
  }

  it("two people chat in a room, in the lobby and directly; a reload keeps the account; a deleted room disappears", async () => {
    const { page: alice } = await person("alice");
    const { page: bob } = await person("bob");

    // Each picks a name (Enter submits).
    for (const [page, name] of [[alice, "Alice"], [bob, "Bob"]] as const) {
      await page.getByLabel("Pick a name so others know who you are").fill(name);
      await page.getByLabel("Pick a name so others know who you are").press("Enter");
      await expect.poll(() => page.locator("#me-name").textContent()).toBe(name);
    }
    await shot("named", ["alice", alice], ["bob", bob]);

    // Alice creates a room; it appears in Bob's list without a reload.
    await alice.getByLabel("New room name").fill("Tea room");
    await alice.getByRole("button", { name: "Create" }).click();
    await alice.getByRole("heading", { name: "Tea room" }).waitFor();
    await roomButton(alice, "Your rooms", "Tea room").waitFor();
    await roomButton(bob, "Other rooms", "Tea room").waitFor();
    await shot("room-created", ["alice", alice], ["bob", bob]);

    // Bob opens it, is told to join, joins; Alice sees him arrive.
    await roomButton(bob, "Other rooms", "Tea room").click();
    await bob.getByText("You are not a member of “Tea room”").waitFor();
    await bob.locator("#join-panel").getByRole("button", { name: "Join room" }).click();
    await roomButton(bob, "Your rooms", "Tea room").waitFor();
    await alice.locator("#messages .note", { hasText: "joined the room" }).getByRole("button", { name: "Bob" }).waitFor();

    // Messages both ways; the composer has the focus after opening, and Enter sends.
    await alice.keyboard.type("Hello Bob, welcome to the tea room!");
    await alice.keyboard.press("Enter");
    await message(bob, "Hello Bob, welcome to the tea room!").waitFor();
    await bob.getByLabel("Message to Tea room").fill("Hi Alice! Thanks for the tea.");
    await bob.getByLabel("Message to Tea room").press("Enter");
    await message(alice, "Hi Alice! Thanks for the tea.").waitFor();
    expect(await alice.getByLabel("Message to Tea room").inputValue()).toBe("");

    // Links are links (http and https only, opening apart from the page), everything else stays text; emoji come through.
    await alice.getByLabel("Message to Tea room").fill("Menu: https://example.com/tea?cups=2. Not javascript:alert(1), nor <b>bold</b> 🍵🎉");
    await alice.getByLabel("Message to Tea room").press("Enter");
    const menu = message(bob, "Menu:");
    await menu.waitFor();
    const link = menu.getByRole("link");
    expect(await link.count()).toBe(1);
    expect(await link.getAttribute("href")).toBe("https://example.com/tea?cups=2");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.textContent()).toBe("https://example.com/tea?cups=2");
    expect(await menu.locator(".msg-text").textContent()).toBe("Menu: https://example.com/tea?cups=2. Not javascript:alert(1), nor <b>bold</b> 🍵🎉");
    expect(await menu.locator(".msg-text b").count()).toBe(0);

    // Messages sit under a heading for their day; each time tells the full date on hover.
    const today = bob.locator("#messages .day").first();
    expect(await today.textContent()).toBe("Today");
    expect(await today.getAttribute("aria-label")).toMatch(/^\w+day,? \d{1,2} \w+ \d{4}$/);
    expect(await menu.locator("time").getAttribute("title")).toMatch(/\d{4}/);
    await shot("room-messages", ["alice", alice], ["bob", bob]);

    // An error is shown, not swallowed: Bob tries to create a room whose name is taken.
    expect(await bob.locator(".notice-error").allTextContents()).toEqual([]);
    for (let i = 0; i < 2; i++) {
      await bob.getByLabel("New room name").fill("TEA ROOM");
      await bob.getByLabel("New room name").press("Enter");
    }
    await bob.getByRole("alert").filter({ hasText: "Could not create the room" }).waitFor();
    expect(await bob.locator(".notice-error").count()).toBe(1);
    await shot("error-shown", ["bob", bob]);
    await bob.getByRole("alert").getByRole("button", { name: "Dismiss" }).click();

    // The lobby: Bob writes to everyone, Alice reads it.
    await bob.getByRole("button", { name: /^Lobby/ }).click();
    await bob.getByLabel("Message to Lobby").fill("Hello everyone in the lobby");
    await bob.getByRole("button", { name: "Send" }).click();
    await alice.getByRole("button", { name: /^Lobby/ }).click();
    await message(alice, "Hello everyone in the lobby").waitFor();

    // A direct message: Bob clicks Alice's name on her message in the room.
    await roomButton(bob, "Your rooms", "Tea room").click();
    await message(bob, "Hello Bob, welcome").getByRole("button", { name: "Alice" }).click();
    await bob.getByRole("heading", { name: "Alice" }).waitFor();
    await bob.keyboard.type("Psst, this one is just for you.");
    await bob.keyboard.press("Enter");
    await message(bob, "Psst, this one is just for you.").waitFor();
    const fromBob = alice.getByRole("list", { name: "Direct messages" }).getByRole("button", { name: /^Bob/ });
    await fromBob.locator(".badge").waitFor();
    await shot("direct-unread", ["alice", alice]);
    await fromBob.click();
    await message(alice, "Psst, this one is just for you.").waitFor();
    await alice.keyboard.type("Got it, thanks!");
    await alice.keyboard.press("Enter");
    await message(bob, "Got it, thanks!").waitFor();
    await shot("direct-messages", ["alice", alice], ["bob", bob]);

    // Alice's id and token sign her in from another browser; Alice's page is told.
    await alice.getByRole("button", { name: "Account" }).click();
    const aliceId = await alice.getByLabel("Your id").inputValue();
    const aliceToken = await alice.getByLabel("Your token").inputValue();
    await shot("account-dialog", ["alice", alice]);
    await alice.getByRole("button", { name: "Close" }).click();
    const { page: other } = await person("other");
    await other.getByRole("button", { name: "Account" }).click();
    await other.getByLabel("Account id").fill(aliceId);
    await other.getByLabel("Token", { exact: true }).fill(aliceToken);
    await other.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => other.locator("#me-name").textContent()).toBe("Alice");
    await roomButton(other, "Your rooms", "Tea room").waitFor();
    await alice.getByRole("status").filter({ hasText: "signed into somewhere else" }).waitFor();
    await shot("signed-in-elsewhere", ["alice", alice], ["other", other]);

    // Alice replaces her token: the other browser is signed out (and told), hers keeps working with the new one.
    await alice.getByRole("button", { name: "Account" }).click();
    alice.once("dialog", (dialog) => void dialog.accept());
    await alice.getByRole("button", { name: "Replace token" }).click();
    await alice.locator("#notice-account", { hasText: "Your token was replaced" }).waitFor();
    const newToken = await alice.getByLabel("Your token").inputValue();
    expect(newToken).not.toBe(aliceToken);
    await alice.getByRole("button", { name: "Close" }).click();
    await other.getByRole("alert").filter({ hasText: "token was replaced on another device" }).waitFor();
    await other.getByLabel("Pick a name so others know who you are").waitFor();
    expect(await other.locator("#me-name").textContent()).toMatch(/^Guest /);
    await shot("token-replaced", ["other", other]);
    await alice.reload();
    await ready(alice);
    expect(await alice.locator("#me-name").textContent()).toBe("Alice");

    // "Sign out (new guest)": a fresh guest at once, no reload; the account left is untouched.
    await other.getByLabel("Pick a name so others know who you are").fill("Otto");
    await other.getByLabel("Pick a name so others know who you are").press("Enter");
    await expect.poll(() => other.locator("#me-name").textContent()).toBe("Otto");
    await other.getByRole("button", { name: "Account" }).click();
    other.once("dialog", (dialog) => void dialog.accept());
    await other.getByRole("button", { name: "Sign out (new guest)" }).click();
    await expect.poll(() => other.locator("#me-name").textContent()).toMatch(/^Guest /);
    await other.getByLabel("Pick a name so others know who you are").waitFor();
    await roomButton(other, "Other rooms", "Tea room").waitFor();
    await shot("signed-out", ["other", other]);

    // A reload keeps Bob's account and his rooms (meanwhile the lobby fills past one page).
    await fillLobby(55);
    await bob.reload();
    await ready(bob);
    expect(await bob.locator("#me-name").textContent()).toBe("Bob");
    await roomButton(bob, "Your rooms", "Tea room").click();
    await message(bob, "Hi Alice! Thanks for the tea.").waitFor();
    await shot("after-reload", ["bob", bob]);

    // Older pages of history: the lobby now holds more than one page.
    await bob.getByRole("button", { name: /^Lobby/ }).click();
    await message(bob, "lobby message 55").waitFor();
    // The newest page (and whatever came live or was read as missed since, joined to it without a gap), not the oldest.
    expect(await bob.locator("#messages .msg").count()).toBeGreaterThanOrEqual(50);
    expect(await message(bob, "Hello everyone in the lobby").count()).toBe(0);
    await bob.getByRole("button", { name: "Load older messages" }).waitFor();
    // Scrolling up to the top loads the older page (the button does the same for the keyboard).
    await bob.locator("#log").hover();
    await bob.mouse.wheel(0, -100_000);
    await message(bob, "Hello everyone in the lobby").waitFor();
    expect(await bob.locator("#messages .msg").count()).toBe(56);
    await bob.getByRole("button", { name: "Load older messages" }).waitFor({ state: "hidden" });
    await shot("lobby-older-pages", ["bob", bob]);

    // The owner deletes the room; it disappears for Bob, who is told.
    await roomButton(alice, "Your rooms", "Tea room").click();
    alice.once("dialog", (dialog) => void dialog.accept());
    await alice.getByRole("button", { name: "Delete room" }).click();
    await roomButton(bob, "Your rooms", "Tea room").waitFor({ state: "detached" });
    await bob.getByRole("status").filter({ hasText: "“Tea room” was deleted by Alice" }).waitFor();
    await bob.getByRole("heading", { name: "Lobby" }).waitFor();
    expect(await bob.getByRole("button", { name: /^Tea room/ }).count()).toBe(0);
    await shot("room-deleted", ["alice", alice], ["bob", bob]);

    // The same page on a phone.
    await bob.setViewportSize({ width: 390, height: 780 });
    await shot("phone-conversation-lobby", ["bob", bob]);
    await bob.getByRole("button", { name: "Back to the conversations" }).click();
    await shot("phone-list", ["bob", bob]);
    await bob.getByRole("list", { name: "Direct messages" }).getByRole("button", { name: /^Alice/ }).click();
    await message(bob, "Got it, thanks!").waitFor();
    await shot("phone-conversation", ["bob", bob]);

    // With the page's clock a day ahead, today's messages are under "Yesterday".
    const { page: later } = await person("later", { clockAt: Date.now() + 24 * 3600_000 });
    await message(later, "lobby message 55").waitFor();
    expect(await later.locator("#messages .day").first().textContent()).toBe("Yesterday");
    await shot("a-day-later", ["later", later]);

    for (const page of [alice, bob]) expect(await page.locator(".notice-error").allTextContents()).toEqual([]);
    expect(chat.problems).toEqual([]);
  }, 120_000);
});
