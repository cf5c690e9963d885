/** Replaces a function of node:fs for its ESM importers too (the journal imports by name), until `restoreFs`. */
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

type Patchable = "fdatasyncSync" | "fdatasync" | "writeSync";

const undo: Array<() => void> = [];

export function patchFs<K extends Patchable>(name: K, make: (real: (typeof fs)[K]) => (typeof fs)[K]): void {
  const real = fs[name];
  fs[name] = make(real);
  syncBuiltinESMExports();
  undo.push(() => {
    fs[name] = real;
    syncBuiltinESMExports();
  });
}

/** Puts back what `patchFs` replaced (call it after each test). */
export function restoreFs(): void {
  for (const u of undo.splice(0).reverse()) u();
}

/**
 * Holds each asynchronous fdatasync until `release` (the disk taking its time): `waiting` is
 * how many are held; `release(failure)` completes the oldest, with `failure` instead of syncing.
 */
export function holdSyncs(): { readonly waiting: number; release(failure?: NodeJS.ErrnoException): Promise<void> } {
  const held: Array<(failure?: NodeJS.ErrnoException) => void> = [];
  patchFs("fdatasync", (real) => ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    held.push((failure) => (failure ? cb(failure) : real(fd, cb)));
  }) as typeof fs.fdatasync);
  return {
    get waiting() {
      return held.length;
    },
    async release(failure) {
      const next = held.shift();
      if (!next) throw new Error("no sync is waiting");
      next(failure);
      await new Promise((r) => setTimeout(r, 10));
    },
  };
}
