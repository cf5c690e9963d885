/** A tiny event registry: `on` returns its own unsubscribe; emitting copies the set first. */

type Fn = (...args: never[]) => void;

export class Listeners {
  readonly #byEvent = new Map<string, Set<Fn>>();

  on(event: string, fn: Fn): () => void {
    const set = this.#byEvent.get(event) ?? new Set<Fn>();
    set.add(fn);
    this.#byEvent.set(event, set);
    return () => {
      set.delete(fn);
    };
  }

  /** Calls every listener of `event`; one that throws does not stop the others (the error is reported asynchronously). */
  emit(event: string, ...args: unknown[]): void {
    const set = this.#byEvent.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as unknown as (...a: unknown[]) => void)(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
