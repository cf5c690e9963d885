/**
 * The chat page. One state (model/state.ts) changed only by `apply(state, event)`
 * (model/apply.ts, pure); the handlers of pushes, replies and clicks turn what happened
 * into events, and the page is drawn from the state once per burst (view/draw.ts).
 *
 * - model/: the state, the events and their rules; no DOM, tested without a browser;
 * - view/: drawing the state; user text only ever becomes text nodes;
 * - net/: the connection ("Retry now"), the sender (pending → sent or failed), reading
 *   and writing through the SDK;
 * - controls/: the page's forms and keys; browser/: localStorage and notifications.
 */
import { initialState } from "./model/state.js";
import { savePage } from "./browser/storage.js";
import { wireAccount } from "./controls/account.js";
import { wireComposer } from "./controls/composer.js";
import { focusConversation, wide, wireForms } from "./controls/forms.js";
import { PageActions } from "./net/actions.js";
import { Connection } from "./net/connection.js";
import type { Ctx } from "./net/context.js";
import { loadRooms } from "./net/loaders.js";
import { listenToPushes } from "./net/pushes.js";
import { Sender } from "./net/sender.js";
import { Session } from "./net/session.js";
import { TypingNotifier } from "./net/typing.js";
import { Store } from "./store.js";
import type { Actions } from "./view/actions.js";
import { draw } from "./view/draw.js";

/** How often the room list's member counts are read again while it is shown (protocol.md: at most once a minute). */
const ROOMS_EVERY_MS = 60_000;

function main(): void {
  const url = `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}/ws`;
  // The view's actions are set below; drawing waits for them.
  let viewActions: Actions | null = null;
  const store = new Store(initialState(Date.now()), (state) => {
    if (viewActions) draw(state, viewActions);
  });
  let connection: Connection | null = null;
  const ctx: Ctx = { store, client: () => connection?.client ?? null };

  const sender = new Sender(store, ctx.client);
  const typing = new TypingNotifier(ctx);
  const open = (key: string, show = true): void => actions.open(key, show);
  const session = new Session(ctx, (key, show) => open(key, show));
  connection = new Connection(url, store, (client) => session.start(client));
  const actions = new PageActions(ctx, connection, sender, session);
  viewActions = {
    dispatch: (e) => actions.dispatch(e),
    open: (key) => {
      actions.open(key);
      queueMicrotask(focusConversation);
    },
    writeTo: (id) => {
      actions.writeTo(id);
      queueMicrotask(focusConversation);
    },
    join: (id) => void actions.join(id),
    leave: (id) => void actions.leave(id),
    removeRoom: (id) => void actions.removeRoom(id),
    retrySend: (id) => actions.retrySend(id),
    discardSend: (id) => actions.discardSend(id),
    editMessage: (id) => actions.editMessage(id),
    deleteMessage: (id) => void actions.deleteMessage(id),
    olderPage: () => actions.olderPage(),
    retryNow: () => actions.retryNow(),
  };

  const refreshRooms = (): void => {
    if (connection?.client?.state === "open") void loadRooms(ctx);
  };
  listenToPushes(ctx, connection, session, (key) => viewActions!.open(key));
  wireForms(store, actions, refreshRooms);
  wireComposer(store, actions, typing);
  wireAccount(ctx, actions);

  // The sender goes on whenever something may have become sendable.
  store.watch((_s, _b, e) => {
    if (e.type === "queue" || e.type === "retry" || e.type === "signedIn" || (e.type === "connection" && e.state === "open")) queueMicrotask(() => sender.pump());
  });

  // Saved a moment after each change, and when the page goes away: read state, pending messages, the open conversation.
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  const save = (): void => savePage(store.state, session.cursor());
  store.watch(() => {
    if (saveTimer === null) {
      saveTimer = setTimeout(() => {
        saveTimer = null;
        save();
      }, 250);
    }
  });
  window.addEventListener("pagehide", save);

  document.addEventListener("visibilitychange", () => {
    const visible = document.visibilityState === "visible";
    store.dispatch({ type: "visibility", visible });
    if (visible && Date.now() - (store.state.roomsAt ?? 0) > ROOMS_EVERY_MS) refreshRooms();
  });
  // Back online (a laptop waking up): no need to wait for the countdown.
  window.addEventListener("online", () => actions.retryNow());

  // The clock, for what counts down or expires: the reconnect countdown, "typing", passing notices.
  setInterval(() => {
    const s = store.state;
    const ticking = s.connection.retryAt !== undefined || Object.keys(s.typing).length > 0 || Object.values(s.notices).some((n) => n?.until !== undefined);
    if (ticking) store.dispatch({ type: "tick", now: Date.now() });
  }, 500);
  // Rooms one is not in send no member counts: read them again while the list is in view.
  setInterval(() => {
    if (document.visibilityState === "visible" && (wide() || store.state.pane === "list")) refreshRooms();
  }, ROOMS_EVERY_MS);

  store.dispatch({ type: "visibility", visible: document.visibilityState === "visible" });
  store.dispatch({ type: "tick", now: Date.now() });
  draw(store.state, viewActions);
  void connection.start();
}

main();
