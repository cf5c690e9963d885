/**
 * What the page keeps in the browser's localStorage: the account (id and token, so a
 * reload signs back in) and, per account, what is read and unread, the messages not
 * yet confirmed by the server (so a reload loses no one's writing), the conversation
 * last open and the notification choice. Storage that is full or disabled only loses
 * these conveniences: every access is guarded.
 */
import type { User } from "../../src/client/index.js";
import type { ConvKey } from "../model/keys.js";
import type { State } from "../model/state.js";

export interface SavedAccount {
  user_id: string;
  token: string;
  /** The name when saved: an unnamed guest the server has forgotten is not worth a warning. */
  username: string | null;
}

export interface SavedPage {
  /** The SDK's cursor when saved: every message up to it had reached the page. */
  cursor: string | null;
  convs: Record<ConvKey, { unread: number; readUpTo: string | null; seenUpTo: string | null }>;
  outbox: { id: string; key: ConvKey; text: string; ts: string }[];
  open: ConvKey | null;
  notifications: boolean;
}

const ACCOUNT = "chat.account";
const pageKey = (userId: string): string => `chat.page.${userId}`;
/** Read state of at most this many conversations is kept. */
const MAX_CONVS = 500;

function read(key: string): unknown {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? null : (JSON.parse(raw) as unknown);
  } catch {
    return null;
  }
}

function write(key: string, value: unknown): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Private mode or a full quota: the page works on, it just forgets on reload.
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

export function loadAccount(): SavedAccount | null {
  const v = read(ACCOUNT);
  if (!isRecord(v) || typeof v.user_id !== "string" || typeof v.token !== "string") return null;
  return { user_id: v.user_id, token: v.token, username: str(v.username) };
}

export function saveAccount(user: User, token: string | null): void {
  write(ACCOUNT, token === null ? null : { user_id: user.id, token, username: user.username });
}

export function loadPage(userId: string): SavedPage {
  const v = read(pageKey(userId));
  const page: SavedPage = { cursor: null, convs: {}, outbox: [], open: null, notifications: false };
  if (!isRecord(v)) return page;
  page.cursor = str(v.cursor);
  page.open = str(v.open);
  page.notifications = v.notifications === true;
  if (isRecord(v.convs)) {
    for (const [key, c] of Object.entries(v.convs)) {
      if (!isRecord(c)) continue;
      page.convs[key] = { unread: typeof c.unread === "number" && c.unread >= 0 ? Math.floor(c.unread) : 0, readUpTo: str(c.readUpTo), seenUpTo: str(c.seenUpTo) };
    }
  }
  if (Array.isArray(v.outbox)) {
    for (const o of v.outbox) {
      if (isRecord(o) && typeof o.id === "string" && typeof o.key === "string" && typeof o.text === "string" && typeof o.ts === "string") {
        page.outbox.push({ id: o.id, key: o.key, text: o.text, ts: o.ts });
      }
    }
  }
  return page;
}

/** Forgets what was kept for an account that no longer exists. */
export function forgetPage(userId: string): void {
  write(pageKey(userId), null);
}

/** `cursor` undefined keeps the one saved: the page is still reading what came while it was away. */
export function savePage(state: State, cursor: string | null | undefined): void {
  if (!state.me) return;
  if (cursor === undefined) cursor = loadPage(state.me.id).cursor;
  const convs: SavedPage["convs"] = {};
  const entries = Object.entries(state.convs).filter(([, c]) => c.unread > 0 || c.readUpTo !== null || c.seenUpTo !== null);
  for (const [key, c] of entries.slice(-MAX_CONVS)) convs[key] = { unread: c.unread, readUpTo: c.readUpTo, seenUpTo: c.seenUpTo };
  const page: SavedPage = {
    cursor,
    convs,
    outbox: state.outbox.map((o) => ({ id: o.id, key: o.key, text: o.text, ts: o.ts })),
    open: state.current,
    notifications: state.notifications,
  };
  write(pageKey(state.me.id), page);
}
