/**
 * The open conversation as the lines to draw, in order: day headings, the "New
 * messages" line, messages (marked when they continue the one before), notes, and
 * the person's pending sends last. Pure, so the grouping rules are tested directly.
 */
import type { Message } from "../../src/client/index.js";
import { dayKey } from "../text/time.js";
import type { ConvKey } from "./keys.js";
import type { Entry, Outgoing, State } from "./state.js";

export type Row =
  | { kind: "day"; key: string; day: string }
  | { kind: "divider"; key: string }
  | { kind: "message"; key: string; message: Message; continued: boolean; mine: boolean }
  | { kind: "note"; key: string; note: Extract<Entry, { kind: "note" }> }
  | { kind: "pending"; key: string; outgoing: Outgoing; continued: boolean };

/** Messages from one sender within this many ms of the one before are drawn as one group. */
export const GROUP_MS = 5 * 60_000;

export function timeline(state: State, key: ConvKey): Row[] {
  const conv = state.convs[key];
  const me = state.me?.id ?? "";
  const rows: Row[] = [];
  let day: string | null = null;
  /** The sender and time of the line above, while it can be continued. */
  let prev: { from: string; ts: number } | null = null;
  let dividerDone = conv?.dividerAfter === null || conv?.dividerAfter === undefined;

  const dayOf = (ts: string): void => {
    const d = dayKey(ts);
    if (d !== day) {
      day = d;
      rows.push({ kind: "day", key: `day:${d}`, day: d });
      prev = null;
    }
  };
  const continues = (from: string, ts: string): boolean => prev !== null && prev.from === from && Date.parse(ts) - prev.ts < GROUP_MS;

  for (const entry of conv?.entries ?? []) {
    if (entry.kind === "note") {
      dayOf(entry.ts);
      rows.push({ kind: "note", key: entry.id, note: entry });
      prev = null;
      continue;
    }
    const m = entry.message;
    dayOf(m.ts);
    const mine = m.from.id === me;
    if (!dividerDone && !mine && m.id > conv!.dividerAfter!) {
      rows.push({ kind: "divider", key: "divider" });
      dividerDone = true;
      prev = null;
    }
    rows.push({ kind: "message", key: m.id, message: m, continued: continues(m.from.id, m.ts), mine });
    prev = { from: m.from.id, ts: Date.parse(m.ts) };
  }
  for (const o of state.outbox) {
    if (o.key !== key) continue;
    dayOf(o.ts);
    rows.push({ kind: "pending", key: `pending:${o.id}`, outgoing: o, continued: continues(me, o.ts) });
    prev = { from: me, ts: Date.parse(o.ts) };
  }
  return rows;
}
