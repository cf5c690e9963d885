/** Dates and times as the page shows them, in the reader's own language and time zone. */

/** "2026-11-25": the local calendar day, for grouping messages under a day heading. */
export function dayKey(ts: string | number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** "Today", "Yesterday", or "Monday 3 March 2026". */
export function dayLabel(key: string, now: number): string {
  if (key === dayKey(now)) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (key === dayKey(yesterday.getTime())) return "Yesterday";
  const [y, m, d] = key.split("-").map(Number);
  return new Date(y!, m! - 1, d!).toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}

/** "14:05": the day is in the heading above. */
export function clockTime(ts: string): string {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** "Tuesday 25 November 2026 at 14:05:09": the full date, on hover. */
export function fullDate(ts: string): string {
  return new Date(ts).toLocaleString([], { weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
