/** Timers that do not hold the process open, and stop together (the hub's, when the server closes). */
export class Timers {
  readonly #all = new Set<NodeJS.Timeout>();

  after(ms: number, run: () => void): void {
    const t = setTimeout(() => {
      this.#all.delete(t);
      run();
    }, ms);
    t.unref();
    this.#all.add(t);
  }

  every(ms: number, run: () => void): void {
    const t = setInterval(run, ms);
    t.unref();
    this.#all.add(t);
  }

  clear(): void {
    for (const t of this.#all) clearTimeout(t);
    this.#all.clear();
  }
}
