/**
 * The Account panel: change the name, see and copy the id and token that sign into this
 * account elsewhere, replace a token that may have leaked, turn notifications on, sign
 * into another account, sign out to a new guest, or delete the account.
 */
import { askPermission, permission, supported } from "../browser/notify.js";
import type { PageActions } from "../net/actions.js";
import type { Ctx } from "../net/context.js";
import { byId, setHidden } from "../view/dom.js";

export function wireAccount(ctx: Ctx, actions: PageActions): void {
  const { store } = ctx;
  const dialog = byId("account-dialog", HTMLDialogElement);
  const token = byId("my-token", HTMLInputElement);
  const showToken = byId("show-token", HTMLButtonElement);
  const notify = byId("notify-toggle", HTMLInputElement);
  const notifyHint = byId("notify-hint", HTMLParagraphElement);

  const hideToken = (): void => {
    token.type = "password";
    showToken.textContent = "Show";
    showToken.setAttribute("aria-pressed", "false");
  };
  const fill = (): void => {
    const me = store.state.me;
    byId("name-input", HTMLInputElement).value = me?.username ?? "";
    byId("my-id", HTMLInputElement).value = me?.id ?? "";
    token.value = ctx.client()?.token ?? "(none: signed in without a token)";
    notify.checked = store.state.notifications && permission() === "granted";
    const p = permission();
    setHidden(notifyHint, p !== "denied" && p !== "unsupported");
    notifyHint.textContent = p === "unsupported" ? "This browser cannot show notifications." : "The browser blocks notifications for this page: allow them in its site settings first.";
  };

  byId("account-open", HTMLButtonElement).addEventListener("click", () => {
    fill();
    hideToken();
    if (store.state.notices.account?.kind === "info") store.dispatch({ type: "notice", area: "account", notice: null });
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
      store.dispatch({ type: "notice", area: "account", notice: { kind: "info", text: `Copied your ${what}.`, until: Date.now() + 4000 } });
    } catch {
      input.type = "text";
      input.select();
      store.dispatch({ type: "notice", area: "account", notice: { kind: "info", text: `Your ${what} is selected: copy it with Ctrl+C (⌘C).` } });
    }
  };
  byId("copy-id", HTMLButtonElement).addEventListener("click", () => void copy(byId("my-id", HTMLInputElement), "id"));
  byId("copy-token", HTMLButtonElement).addEventListener("click", () => void copy(token, "token"));
  byId("replace-token", HTMLButtonElement).addEventListener("click", () => {
    if (!window.confirm("Replace your token? Every other device signed into this account is signed out, and the old token stops working.")) return;
    void actions.replaceToken().then((fresh) => {
      if (fresh !== null) token.value = fresh;
    });
  });

  byId("name-form", HTMLFormElement).addEventListener("submit", (ev) => {
    ev.preventDefault();
    void actions.changeName(byId("name-input", HTMLInputElement).value, "account");
  });

  notify.addEventListener("change", () => {
    if (!notify.checked) {
      store.dispatch({ type: "notifications", on: false });
      return;
    }
    void askPermission().then((ok) => {
      store.dispatch({ type: "notifications", on: ok });
      notify.checked = ok;
      fill();
    });
  });
  if (!supported()) notify.disabled = true;

  byId("signin-form", HTMLFormElement).addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = byId("signin-id", HTMLInputElement);
    const secret = byId("signin-token", HTMLInputElement);
    void actions.signIn(id.value.trim(), secret.value.trim()).then((ok) => {
      if (!ok) return;
      id.value = "";
      secret.value = "";
      dialog.close();
    });
  });

  byId("sign-out", HTMLButtonElement).addEventListener("click", () => {
    const ok = window.confirm("Sign out and start again as a new guest? To come back to this account later you need its id and token (shown here).");
    if (!ok) return;
    void actions.signOut().then((done) => {
      if (done) dialog.close();
    });
  });
  byId("delete-account", HTMLButtonElement).addEventListener("click", () => {
    void actions.deleteAccount().then((done) => {
      if (done) dialog.close();
    });
  });
}
