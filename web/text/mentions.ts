/** Whether a message mentions a name: the name as a whole word (or "@name"), ignoring case. */

const WORDISH = /[\p{L}\p{N}_]/u;

export function mentions(text: string, name: string | null): boolean {
  if (!name) return false;
  const hay = text.toLocaleLowerCase();
  const needle = name.trim().toLocaleLowerCase();
  if (needle === "") return false;
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) {
    const before = hay.slice(0, at);
    const after = hay.slice(at + needle.length);
    const b = [...before].at(-1);
    const a = [...after][0];
    if ((b === undefined || !WORDISH.test(b)) && (a === undefined || !WORDISH.test(a))) return true;
  }
  return false;
}
