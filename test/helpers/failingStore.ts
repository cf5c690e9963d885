/** A MemoryStore whose commits fail while `failing` (as on a full disk), dropping the batch as SQLite rolls it back. */
import { MemoryStore } from "../../src/store/memoryStore.js";
import { StoreError } from "../../src/store/migrations.js";
import type { LogPosition } from "../../src/store/store.js";

export class FailingStore extends MemoryStore {
  failing = false;

  override commit(position?: LogPosition): void {
    if (!this.failing) return super.commit(position);
    this.close();
    throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
  }

  override probe(): void {
    if (this.failing) throw new StoreError("the disk is full");
  }
}

/** A FailingStore that, while failing, cannot be read either: the state cannot be rebuilt after a failed commit. */
export class UnreadableStore extends FailingStore {
  override load() {
    if (this.failing) throw new Error("cannot read either");
    return super.load();
  }
}
