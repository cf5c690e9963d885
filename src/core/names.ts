/**
 * When two names are the same name. Account and room names are unique under this
 * comparison, so that no one can look like someone else by case, width, compatibility
 * forms (ｆｕｌｌ, ﬁ), spacing or characters that draw nothing.
 */

const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;
const SPACES = /\s+/gu;

/** The name as compared: Unicode NFKC, full case folding, invisible characters removed, white space runs as one space. */
export function nameKey(name: string): string {
  // Upper then lower case folds what lower case alone keeps apart (ß and SS, ς and Σ).
  const folded = name.normalize("NFKC").toUpperCase().toLowerCase().normalize("NFKC");
  return folded.replace(INVISIBLE, "").replace(SPACES, " ").trim();
}

/** True when a name draws something: its key is not empty. */
export function isVisibleName(name: string): boolean {
  return nameKey(name) !== "";
}

/**
 * The first of `name (2)`, `name (3)`, ... whose key `taken` does not hold, cut to `max`
 * characters (code points): how a name that collides with an older holder's is settled.
 */
export function distinguishedName(name: string, max: number, taken: (key: string) => boolean): string {
  for (let n = 2; ; n++) {
    const suffix = ` (${n})`;
    const base = [...name].slice(0, max - suffix.length).join("").trimEnd();
    const candidate = base + suffix;
    if (!taken(nameKey(candidate))) return candidate;
  }
}
