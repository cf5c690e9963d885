/**
 * What the page keeps in the browser's localStorage: the account (id and token, so
 * that a reload signs back in), and per account the people written to and the
 * conversation last open. Storage that is full or disabled only loses these
 * conveniences: every access is guarded.
 */
import type { User } from "../src/client/index.js";

export interface SavedAccount {
  user_id: string;
  token: string;
  /** The name when saved: an unnamed guest the server has forgotten is not worth a warning. */
  username: string | null;
}

const ACCOUNT = "chat.account";

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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

export function loadAccount(): SavedAccount | null {
  const v = read(ACCOUNT);
  if (!isRecord(v) || typeof v.user_id !== "string" || typeof v.token !== "string") return null;
  return { user_id: v.user_id, token: v.token, username: typeof v.username === "string" ? v.username : null };
}

export function saveAccount(user: User, token: string | null): void {
  write(ACCOUNT, token === null ? null : { user_id: user.id, token, username: user.username });
}

export function forgetAccount(): void {
  write(ACCOUNT, null);
}

/** The people this account has a direct conversation with, newest first. */
export function loadPeers(userId: string): User[] {
  const v = read(`chat.peers.${userId}`);
  if (!Array.isArray(v)) return [];
  return v.filter((u): u is User => isRecord(u) && typeof u.id === "string" && (typeof u.username === "string" || u.username === null));
}

export function savePeers(userId: string, peers: readonly User[]): void {
  write(`chat.peers.${userId}`, peers.slice(0, 100));
}

export function loadOpen(userId: string): string | null {
  const v = read(`chat.open.${userId}`);
  return typeof v === "string" ? v : null;
}

export function saveOpen(userId: string, key: string): void {
  write(`chat.open.${userId}`, key);
}
