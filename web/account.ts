/**
 * The account dialog: change the name, see (and copy) the id and token that sign into
 * this account elsewhere, sign into another account, sign out to a new guest, or
 * delete the account.
 */
import type { ChatClient, User } from "../src/client/index.js";
import { byId } from "./dom.js";
import { notify } from "./notices.js";
import { forgetAccount } from "./storage.js";
import { describeError, displayName } from "./text.js";

export interface AccountHost {
  client: ChatClient;
  me(): User;
  /** Takes up the client's (new) account: saves it and reloads everything. */
  adopt(): Promise<void>;
  /** The page is about to close the connection on purpose. */
  leaving(): void;
}

export function wireAccountDialog(host: AccountHost): void {
  const dialog = byId("account-dialog", HTMLDialogElement);
  const token = byId("my-token", HTMLInputElement);
  const showToken = byId("show-token", HTMLButtonElement);

  byId("account-open", HTMLButtonElement).addEventListener("click", () => {
    byId("name-input", HTMLInputElement).value = host.me().username ?? "";
    byId("my-id", HTMLInputElement).value = host.me().id;
    token.value = host.client.token ?? "(none: signed in without a token)";
    token.type = "password";
    showToken.textContent = "Show";
    showToken.setAttribute("aria-pressed", "false");
    byId("signin-error", HTMLParagraphElement).hidden = true;
    dialog.showModal();
  });
  byId("account-close", HTMLButtonElement).addEventListener("click", () => dialog.close());
  byId("credentials", HTMLFormElement).addEventListener("submit", (ev) => ev.preventDefault());

  showToken.addEventListener("click", () => {
    const shown = token.type === "text";
    token.type = shown ? "password" : "text";
    showToken.textContent = shown ? "Show" : "Hide";
    showToken.setAttribute("aria-pressed", String(!shown));
  });
  const copy = async (input: HTMLInputElement, what: string): Promise<void> => {
    try {
      await navigator.clipboard.writeText(input.value);
      notify("info", `Copied your ${what}.`);
    } catch {
      input.type = "text";
      input.select();
      notify("error", `Could not copy your ${what} automatically: it is selected, copy it with Ctrl+C (⌘C).`);
    }
  };
  byId("copy-id", HTMLButtonElement).addEventListener("click", () => void copy(byId("my-id", HTMLInputElement), "id"));
  byId("copy-token", HTMLButtonElement).addEventListener("click", () => void copy(token, "token"));

  byId("signin-form", HTMLFormElement).addEventListener("submit", (ev) => {
    ev.preventDefault();
    void signIn(host, dialog);
  });

  byId("sign-out", HTMLButtonElement).addEventListener("click", () => {
    const ok = window.confirm("Sign out and start again as a new guest? To come back to this account later you need its id and token (shown here).");
    if (!ok) return;
    forgetAccount();
    host.leaving();
    host.client.close(1000, "signed out");
    window.location.reload();
  });

  byId("delete-account", HTMLButtonElement).addEventListener("click", () => void deleteAccount(host, dialog));
}

async function signIn(host: AccountHost, dialog: HTMLDialogElement): Promise<void> {
  const id = byId("signin-id", HTMLInputElement);
  const token = byId("signin-token", HTMLInputElement);
  const error = byId("signin-error", HTMLParagraphElement);
  error.hidden = true;
  try {
    await host.client.request("auth", { user_id: id.value.trim(), token: token.value.trim() });
  } catch (err) {
    error.textContent = describeError("sign in", err);
    error.hidden = false;
    return;
  }
  id.value = "";
  token.value = "";
  dialog.close();
  await host.adopt();
  notify("info", `Signed in as ${displayName(host.me())}.`);
}

async function deleteAccount(host: AccountHost, dialog: HTMLDialogElement): Promise<void> {
  if (!window.confirm("Delete your account for good? Rooms you own are deleted with it.")) return;
  try {
    await host.client.request("del_user");
  } catch (err) {
    notify("error", describeError("delete your account", err));
    return;
  }
  dialog.close();
  // The server's welcome with the new guest account follows; the page adopts it.
  notify("info", "Your account was deleted. You are a new guest now.");
}
