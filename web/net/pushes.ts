/** What the server tells the page unasked, turned into events for the state. */
import type { Frame } from "../../src/client/index.js";
import type { PushDataMap, Reconnected } from "../../src/client/index.js";
import { notifyAbout } from "../browser/notify.js";
import { dmKey, roomKey, type ConvKey } from "../model/keys.js";
import type { Connection } from "./connection.js";
import type { Ctx } from "./context.js";
import type { Session } from "./session.js";

type On = <P extends keyof PushDataMap>(event: P, fn: (data: PushDataMap[P], frame: Frame) => void) => void;

export function listenToPushes(ctx: Ctx, connection: Connection, session: Session, open: (key: ConvKey) => void): void {
  const { store } = ctx;
  const on: On = (event, fn) => connection.on(event, fn as (...args: never[]) => void);
  const now = (): number => Date.now();
  const me = (): string | undefined => store.state.me?.id;
  const global = (kind: "info" | "error", text: string): void =>
    store.dispatch({ type: "notice", area: "global", notice: kind === "info" ? { kind, text, until: now() + 8000 } : { kind, text } });

  on("message", (message) => {
    store.dispatch({ type: "message", message, now: now() });
    notifyAbout(store.state, message, open);
  });
  on("room_created", ({ room, by }) => store.dispatch({ type: "roomCreated", room, by, mine: by.id === me() }));
  on("room_renamed", ({ room, by }) => store.dispatch({ type: "roomRenamed", room, by, now: now() }));
  on("room_deleted", ({ room_id, room_name, by }) => store.dispatch({ type: "roomDeleted", roomId: room_id, roomName: room_name, by, now: now() }));
  on("member_joined", ({ room_id, user }) => store.dispatch({ type: "memberJoined", roomId: room_id, user, now: now() }));
  on("member_left", ({ room_id, user }) => store.dispatch({ type: "memberLeft", roomId: room_id, user, now: now() }));
  on("user_renamed", ({ user }) => {
    store.dispatch({ type: "userRenamed", user });
    if (user.id === me()) {
      const client = connection.client;
      if (client) session.rememberToken(client);
    }
  });
  on("presence", ({ user, online }) => store.dispatch({ type: "presence", user, online }));
  on("message_edited", ({ message }) => store.dispatch({ type: "edited", message }));
  on("message_deleted", ({ message_id }) => store.dispatch({ type: "deleted", messageId: message_id }));
  on("user_typing", ({ user, room_id }) => store.dispatch({ type: "typing", key: room_id === undefined ? dmKey(user.id) : roomKey(room_id), user, now: now() }));
  on("signed_in_elsewhere", () => global("info", "Your account was just signed into somewhere else (another tab or device). You stay signed in here too."));
  on("account_deleted", () => global("error", "Your account was deleted from another tab or device. You are a new guest now."));
  on("signed_out", () => global("error", "This page was signed out: your account's token was replaced on another device. You are a new guest now; sign in again with the new token (Account)."));
  // A new account on this connection (signed out, deleted, or not resumed): take it up.
  on("welcome", () => {
    const client = connection.client;
    if (client) void session.adopt(client);
  });
  on("error", (e) => global("error", `The server reported a problem: ${e.message}`));
  connection.on("reconnect", ((info: Reconnected) => void session.resumed(info)) as (...args: never[]) => void);
}
