/** Free space on the disk holding the database, as `probe` measures it before its test write. */
import { statfsSync } from "node:fs";

/**
 * Below this the store reports itself unwritable: 4 MiB is what the WAL may grow to before
 * SQLite checkpoints it (1000 pages of 4 KiB), so with less a burst of commits could fail half way.
 */
export const MIN_FREE_BYTES = 4 * 1024 * 1024;

/** Bytes an unprivileged writer may still use in `dir`'s file system. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Why the disk is too full to write, or undefined when it is not. */
export function lowSpace(dir: string): string | undefined {
  const free = freeBytes(dir);
  return free < MIN_FREE_BYTES ? `the disk is full (${mib(free)} free in ${dir}; ${mib(MIN_FREE_BYTES)} needed)` : undefined;
}
