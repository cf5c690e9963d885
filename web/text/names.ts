/**
 * How people are named on the page. Account names are unique on the server, but a
 * name can still look like another (Latin "a" and Cyrillic "а" are different names),
 * so the page also shows who is who by the account id, which no one can choose: each
 * person's initial sits on a colour made from their id, the id's start is shown on
 * hover, and your own name always carries "(you)".
 */
import type { Person } from "../model/state.js";

export function displayName(person: Pick<Person, "id" | "username" | "deleted">): string {
  if (person.deleted) return "Deleted account";
  return person.username ?? `Guest ${person.id.slice(0, 4)}`;
}

/** "alice · id 5b0c2a4e": what hovering a name says. */
export function nameTitle(person: Pick<Person, "id" | "username" | "deleted">): string {
  return `${displayName(person)} · id ${person.id.slice(0, 8)}`;
}

/** The first letter (or emoji) of a name, for its avatar. */
export function initial(person: Pick<Person, "id" | "username" | "deleted">): string {
  if (person.deleted) return "×";
  const name = person.username ?? "?";
  const first = [...name.trim()][0] ?? "?";
  return first.toLocaleUpperCase();
}

/** One of 12 hues, from the account id: two accounts with names that look alike still differ in colour. */
export function hueOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % 12;
}
