/**
 * The page's picture of people and conversations, end to end (the real server as
 * `npm start` runs it, the machine's Chromium): members with online dots, who is
 * typing, editing and deleting, current names, member counts of rooms one is not in,
 * the owner's buttons, notices in their place, direct conversations and unread counts
 * that follow the account, notifications, and deleted accounts.
 * Skips as helpers/browser.ts says.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipBrowser } from "./helpers/browser.js";
import { ChatBrowser, composer, createRoom, dmButton, joinRoom, message, mine, pickName, ready, roomButton, say, startPageTest, stopPageTest } from "./helpers/chatPage.js";

/** Stands in for the browser's Notification (headless Chromium shows none): records each one. */
const FAKE_NOTIFICATION = `
  window.__notes = [];
  window.Notification = class {
    static permission = "granted";
    static requestPermission() { return Promise.resolve("granted"); }
    constructor(title, options) { window.__notes.push({ title, body: options && options.body }); }
    close() {}
  };
`;

const notes = (page: Page): Promise<{ title: string; body: string }[]> => page.evaluate(() => (window as unknown as { __notes: { title: string; body: string }[] }).__notes);

async function openAccount(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Account" }).click();
  await page.getByRole("dialog").waitFor();
}

describe.skipIf(skipBrowser)("people and conversations on the page", () => {
  let base: string;
  let browser: Browser;
  let chat: ChatBrowser;

  beforeAll(async () => {
    ({ base, browser, chat } = await startPageTest("people"));
  }, 60_000);
  afterAll(() => stopPageTest(browser));

  it("a room's members with online dots, who is typing, edits and deletions, and names as they are now", async () => {
    const { page: alma } = await chat.person("alma", base);
    const { page: bruno } = await chat.person("bruno", base);
    const cora = await chat.person("cora", base);
    await pickName(alma, "Alma");
    await pickName(bruno, "Bruno");
    await pickName(cora.page, "Cora");
    await createRoom(alma, "Studio");
    await joinRoom(bruno, "Studio");
    await joinRoom(cora.page, "Studio");

    // Everyone listed, online; Cora leaves the page and her dot goes grey on Alma's.
    const members = alma.locator("#member-list li");
    await expect.poll(() => alma.locator("#member-list li.online").count()).toBe(3);
    expect(await members.locator(".name").allTextContents()).toEqual(["Alma (you)", "Bruno", "Cora"]);
    await cora.context.close();
    await alma.locator("#member-list li.offline", { hasText: "Cora" }).waitFor();
    await expect.poll(() => alma.locator("#members-heading").textContent()).toBe("Members · 2 online");
    await chat.shot("members-online", ["alma", alma]);

    // Typing: Bruno types, Alma is told; his message ends it.
    await composer(bruno).click();
    await bruno.keyboard.type("Has anyone seen the blue paint");
    await alma.locator("#typing", { hasText: "Bruno is typing…" }).waitFor();
    await chat.shot("typing", ["alma", alma]);
    await bruno.keyboard.press("Enter");
    await message(alma, "blue paint").waitFor();
    await expect.poll(() => alma.locator("#typing").textContent()).toBe("");

    // Alma edits her own message; Bruno sees the new text, marked edited.
    await say(alma, "Meeting at 3");
    await message(bruno, "Meeting at 3").waitFor();
    await message(alma, "Meeting at 3").hover();
    await message(alma, "Meeting at 3").getByRole("button", { name: "Edit this message" }).click();
    await alma.locator("#editing-bar").waitFor();
    expect(await composer(alma).inputValue()).toBe("Meeting at 3");
    await composer(alma).fill("Meeting at 4");
    await composer(alma).press("Enter");
    await message(bruno, "Meeting at 4").getByText("(edited)").waitFor();
    expect(await message(bruno, "Meeting at 3").count()).toBe(0);
    await alma.locator("#editing-bar").waitFor({ state: "hidden" });
    expect(await composer(alma).inputValue()).toBe("");
    // Nobody else can edit or delete it.
    expect(await message(bruno, "Meeting at 4").getByRole("button").count()).toBe(1); // only Alma's name
    await chat.shot("edited", ["bruno", bruno]);

    // Deleting one's own message, and (as the room's owner) someone else's.
    await say(alma, "oops, wrong room");
    await message(bruno, "oops, wrong room").waitFor();
    alma.on("dialog", (d) => void d.accept());
    await message(alma, "oops, wrong room").hover();
    await message(alma, "oops, wrong room").getByRole("button", { name: "Delete this message" }).click();
    await message(bruno, "oops, wrong room").waitFor({ state: "detached" });
    await say(bruno, "BUY CHEAP PAINT");
    await message(alma, "BUY CHEAP PAINT").hover();
    await message(alma, "BUY CHEAP PAINT").getByRole("button", { name: "Delete this message" }).click();
    await message(bruno, "BUY CHEAP PAINT").waitFor({ state: "detached" });
    expect(await message(alma, "BUY CHEAP PAINT").count()).toBe(0);

    // Names as they are now: Bruno renames himself, his old messages follow on Alma's page.
    await openAccount(bruno);
    await bruno.getByLabel("Name", { exact: true }).fill("Bruno B.");
    await bruno.getByRole("dialog").getByRole("button", { name: "Save name" }).click();
    await bruno.getByRole("dialog").getByRole("button", { name: "Close" }).click();
    await message(alma, "blue paint").getByRole("button", { name: "Bruno B." }).waitFor();
    // Who is who: one's own name says so, and every name shows the account id on hover.
    await message(alma, "Meeting at 4").getByText("Alma (you)").waitFor();
    const title = await message(alma, "blue paint").getByRole("button", { name: "Bruno B." }).getAttribute("title");
    expect(title).toMatch(/^Bruno B\. · id [0-9a-f]{8} · write to them directly$/);
    await chat.shot("current-names", ["alma", alma]);

    // On a phone the member list folds behind a button in the room's header.
    await alma.setViewportSize({ width: 390, height: 780 });
    await alma.locator("#members").waitFor({ state: "hidden" });
    await alma.getByRole("button", { name: "Members (3)" }).click();
    await alma.locator("#member-list li", { hasText: "Cora" }).waitFor();
    await chat.shot("phone-members", ["alma", alma]);
    expect(chat.problems).toEqual([]);
  }, 120_000);

  it("member counts of rooms one is not in are current; the owner keeps Rename and Delete after leaving; notices replace each other and clear", async () => {
    const { page: dora } = await chat.person("dora", base);
    const { page: eve } = await chat.person("eve", base);
    const { page: fay } = await chat.person("fay", base);
    await pickName(dora, "Dora");
    await pickName(eve, "Eve");
    await pickName(fay, "Fay");
    await createRoom(dora, "Kiln");
    await roomButton(eve, "Other rooms", "Kiln").getByText("1 member").waitFor();

    // Fay joins; Eve (not a member, so told nothing) sees the new count when she looks at the room.
    await joinRoom(fay, "Kiln");
    await roomButton(eve, "Other rooms", "Kiln").click();
    await eve.locator("#conv-sub", { hasText: "2 members" }).waitFor();
    await roomButton(eve, "Other rooms", "Kiln").getByText("2 members").waitFor();

    // Dora leaves her room: she still owns it, and keeps its Rename and Delete.
    await roomButton(dora, "Your rooms", "Kiln").click();
    await dora.getByRole("button", { name: "Leave room" }).click();
    await roomButton(dora, "Other rooms", "Kiln").waitFor();
    await dora.locator("#conv-sub", { hasText: "you own this room" }).waitFor();
    await dora.locator("#conv-actions").getByRole("button", { name: "Rename" }).waitFor();
    await dora.locator("#conv-actions").getByRole("button", { name: "Delete room" }).waitFor();
    await dora.locator("#join-panel").getByRole("button", { name: "Join room" }).waitFor();
    await chat.shot("owner-left", ["dora", dora]);

    // A failed rename shows beside the room, a second replaces it, a success clears it.
    await createRoom(eve, "Glaze");
    const roomErrors = dora.locator("#notice-room .notice-error");
    for (const taken of ["Glaze", "GLAZE"]) {
      await dora.locator("#conv-actions").getByRole("button", { name: "Rename" }).click();
      await dora.getByLabel("New name for the room").fill(taken);
      await dora.getByLabel("New name for the room").press("Enter");
      await roomErrors.filter({ hasText: "Could not rename the room" }).waitFor();
      expect(await roomErrors.count()).toBe(1);
    }
    await chat.shot("rename-error", ["dora", dora]);
    await dora.getByLabel("New name for the room").fill("Kiln two");
    await dora.getByLabel("New name for the room").press("Enter");
    await dora.getByRole("heading", { name: "Kiln two" }).waitFor();
    await roomErrors.waitFor({ state: "detached" });

    // The same for creating: two failures, one notice; a success, none.
    const sideErrors = dora.locator("#notice-sidebar .notice-error");
    for (let i = 0; i < 2; i++) {
      await dora.getByLabel("New room name").fill("glaze");
      await dora.getByLabel("New room name").press("Enter");
      await sideErrors.filter({ hasText: "Could not create the room" }).waitFor();
    }
    expect(await sideErrors.count()).toBe(1);
    expect(await dora.locator(".notice-error").count()).toBe(1);
    await createRoom(dora, "Wheel");
    await sideErrors.waitFor({ state: "detached" });
    expect(chat.problems).toEqual([]);
  }, 120_000);

  it("direct conversations and unread counts follow the account: from the server on another browser, kept across reloads, in the title, with a New messages line and notifications", async () => {
    const gus = await chat.person("gus", base, { initScript: FAKE_NOTIFICATION });
    const { page: hana } = await chat.person("hana", base);
    await pickName(gus.page, "Gus");
    await pickName(hana, "Hana");
    await openAccount(gus.page);
    await gus.page.getByLabel(/Tell me about direct messages/).check();
    await gus.page.getByRole("dialog").getByRole("button", { name: "Close" }).click();

    // Hana writes to Gus from his name in the lobby; Gus is reading the lobby.
    await say(gus.page, "Anyone around?");
    await message(hana, "Anyone around?").getByRole("button", { name: "Gus" }).click();
    await hana.getByRole("heading", { name: "Gus", exact: true }).waitFor();
    await say(hana, "psst 1");
    await say(hana, "psst 2");
    const fromHana = dmButton(gus.page, "Hana");
    await fromHana.locator(".badge", { hasText: "2" }).waitFor();
    await expect.poll(() => gus.page.title()).toBe("(2) Lobby · Chat");
    expect((await notes(gus.page)).map((n) => n.body)).toEqual(["psst 1", "psst 2"]);
    expect((await notes(gus.page))[0]!.title).toBe("Hana (direct message)");
    await chat.shot("unread", ["gus", gus.page]);

    // A reload keeps the count; so does closing the page while more comes.
    await gus.page.reload();
    await ready(gus.page);
    await fromHana.locator(".badge", { hasText: "2" }).waitFor();
    await gus.page.close();
    await say(hana, "psst 3");
    await mine(hana, "sent", "psst 3").waitFor();
    const again = await gus.context.newPage();
    chat.watch("gus", again);
    await again.goto(base);
    await ready(again);
    await dmButton(again, "Hana").locator(".badge", { hasText: "3" }).waitFor();
    await expect.poll(() => again.title()).toBe("(3) Lobby · Chat");

    // Opening it: a line where the new messages begin; the count and the title clear.
    await dmButton(again, "Hana").click();
    await message(again, "psst 1").waitFor();
    await message(again, "psst 3").waitFor();
    const order = await again.locator("#messages > li").evaluateAll((lis) => lis.map((li) => (li.classList.contains("divider") ? "NEW" : li.querySelector(".msg-text")?.textContent ?? li.textContent)));
    expect(order.filter((x) => x !== "Today")).toEqual(["NEW", "psst 1", "psst 2", "psst 3"]);
    await expect.poll(() => again.title()).toBe("Hana · Chat");
    expect(await dmButton(again, "Hana").locator(".badge").count()).toBe(0);
    await chat.shot("new-messages-line", ["gus", again]);

    // A mention of his name in the lobby is notified too (he is reading Hana's messages).
    await hana.getByRole("button", { name: /^Lobby/ }).click();
    await say(hana, "gus: the kettle is on");
    await expect.poll(async () => (await notes(again)).map((n) => n.title)).toContain("Hana mentioned you");

    // The list of direct conversations is the server's: Gus signed in on another browser sees it.
    await openAccount(again);
    const id = await again.getByLabel("Your id").inputValue();
    const token = await again.getByLabel("Your token").inputValue();
    await again.getByRole("dialog").getByRole("button", { name: "Close" }).click();
    const { page: laptop } = await chat.person("gus-laptop", base);
    await openAccount(laptop);
    await laptop.getByLabel("Account id").fill(id);
    await laptop.getByLabel("Token", { exact: true }).fill(token);
    await laptop.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => laptop.locator("#me-name").textContent()).toBe("Gus");
    await dmButton(laptop, "Hana").waitFor();
    await chat.shot("second-browser", ["gus-laptop", laptop]);
    expect(chat.problems).toEqual([]);
  }, 120_000);

  it("a deleted account is shown as deleted: no live-looking name, and its conversation says why", async () => {
    const { page: ivan } = await chat.person("ivan", base);
    const { page: jo } = await chat.person("jo", base);
    await pickName(ivan, "Ivan");
    await pickName(jo, "Jo");
    await say(ivan, "last words in the lobby");
    await message(jo, "last words in the lobby").waitFor();

    await openAccount(ivan);
    ivan.once("dialog", (d) => void d.accept());
    await ivan.getByRole("button", { name: "Delete account" }).click();
    await ivan.getByLabel("Pick a name so others know who you are").waitFor();

    // Jo's page still shows the name it knew; opening it tells what happened, with no raw error.
    await message(jo, "last words in the lobby").getByRole("button", { name: "Ivan" }).click();
    await jo.locator("#gone-panel", { hasText: "This account was deleted" }).waitFor();
    await jo.getByRole("heading", { name: "Deleted account" }).waitFor();
    expect(await jo.locator(".notice-error").count()).toBe(0);
    await chat.shot("deleted-account-opened", ["jo", jo]);
    await jo.getByRole("button", { name: /^Lobby/ }).click();
    await message(jo, "last words in the lobby").getByText("Deleted account").waitFor();
    expect(await message(jo, "last words in the lobby").getByRole("button").count()).toBe(0);

    // After a reload the server says so itself.
    await jo.reload();
    await ready(jo);
    await jo.getByRole("button", { name: /^Lobby/ }).click();
    await message(jo, "last words in the lobby").getByText("Deleted account").waitFor();
    expect(await message(jo, "last words in the lobby").getByRole("button").count()).toBe(0);
    expect(await jo.getByRole("list", { name: "Direct messages" }).getByRole("button").count()).toBe(0);
    await chat.shot("deleted-account", ["jo", jo]);
    expect(chat.problems).toEqual([]);
  }, 120_000);
});
