/** Binary search over arrays kept sorted by a string key (ids are UUIDv7, names are lower-cased). */

/** Index of the first item whose key is not below `key`. */
export function lowerBound<T>(items: readonly T[], key: string, keyOf: (item: T) => string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(items[mid]!) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first item whose key is above `key`. */
export function upperBound<T>(items: readonly T[], key: string, keyOf: (item: T) => string): number {
  const at = lowerBound(items, key, keyOf);
  return at < items.length && keyOf(items[at]!) === key ? at + 1 : at;
}

export const itself = (s: string): string => s;
