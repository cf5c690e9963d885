/**
 * Finds web addresses in a message so they can be drawn as links. Only http: and
 * https: addresses become links; anything else (javascript:, data:, a bare "www.")
 * stays text. The result is plain strings: the view makes text nodes and <a>
 * elements from them, never HTML.
 */

export type Piece = { text: string } | { text: string; href: string };

const URL_LIKE = /\bhttps?:\/\/[^\s<>"]+/gi;
/** Punctuation that ends a sentence rather than the address ("see https://x.org/a."). */
const TRAILING = /[.,;:!?'"*_~]+$/;

/** Drops a closing bracket the address did not open: "(see https://x.org/a)". */
function balance(url: string): string {
  let out = url;
  for (const [open, close] of [["(", ")"], ["[", "]"], ["{", "}"]] as const) {
    while (out.endsWith(close) && out.split(open).length < out.split(close).length) out = out.slice(0, -1);
  }
  return out;
}

function safeHref(candidate: string): string | null {
  try {
    const u = new URL(candidate);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

export function linkify(text: string): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_LIKE)) {
    let url = match[0];
    for (;;) {
      const trimmed = balance(url.replace(TRAILING, ""));
      if (trimmed === url) break;
      url = trimmed;
    }
    const href = safeHref(url);
    if (!href) continue;
    const at = match.index;
    if (at > last) pieces.push({ text: text.slice(last, at) });
    pieces.push({ text: url, href });
    last = at + url.length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last) });
  return pieces;
}
