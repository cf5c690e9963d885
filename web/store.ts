/**
 * Holds the state: `dispatch(event)` runs the pure `apply` and tells the watchers
 * (the sender, the saver, notifications), and the page is drawn once for a burst of
 * events (at the end of the current task), not once per event.
 */
import { apply } from "./model/apply.js";
import type { Event } from "./model/events.js";
import type { State } from "./model/state.js";

export type Watcher = (state: State, before: State, event: Event) => void;

export class Store {
  #state: State;
  readonly #watchers: Watcher[] = [];
  readonly #draw: (state: State) => void;
  #drawQueued = false;

  constructor(initial: State, draw: (state: State) => void) {
    this.#state = initial;
    this.#draw = draw;
  }

  get state(): State {
    return this.#state;
  }

  watch(fn: Watcher): void {
    this.#watchers.push(fn);
  }

  dispatch(event: Event): void {
    const before = this.#state;
    this.#state = apply(before, event);
    if (this.#state === before) return;
    for (const w of this.#watchers) w(this.#state, before, event);
    if (!this.#drawQueued) {
      this.#drawQueued = true;
      queueMicrotask(() => {
        this.#drawQueued = false;
        this.#draw(this.#state);
      });
    }
  }
}
