/**
 * A few DOM helpers. Elements are built without innerHTML: user text only ever becomes
 * text nodes. Lists are drawn with `reconcile`, which keeps every element whose content
 * did not change, so a redraw loses no keyboard focus, text selection or scroll place.
 */

type Child = Node | string | null | undefined | false;
type AttrValue = string | number | boolean | undefined | null | ((ev: Event) => void);

/**
 * `h("button", { type: "button", class: "x", onclick: fn }, "Label")`. Keys starting
 * with `on` add listeners; `true`/`false` set or omit a boolean attribute; `undefined` and `null` are skipped.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, AttrValue> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** The element with this id, checked to be of the expected kind (a missing one is a bug in index.html). */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`index.html has no ${kind.name} #${id}`);
  return el;
}

/** Sets text only when it differs, so that screen readers are not told the same thing again. */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function setHidden(el: HTMLElement, hidden: boolean): void {
  if (el.hidden !== hidden) el.hidden = hidden;
}

export interface Item {
  key: string;
  /** Everything the element shows: when it is unchanged, the element is kept as it is. */
  sig: string;
  make: () => Element;
}

const sigs = new WeakMap<Element, string>();
const keys = new WeakMap<Element, string>();

/** Makes `parent`'s children the items' elements, in order, reusing those whose key and sig match. */
export function reconcile(parent: Element, items: readonly Item[]): void {
  const existing = new Map<string, Element>();
  for (const child of Array.from(parent.children)) {
    const key = keys.get(child);
    if (key === undefined || existing.has(key)) child.remove();
    else existing.set(key, child);
  }
  let next: Element | null = parent.firstElementChild;
  for (const item of items) {
    let el = existing.get(item.key);
    existing.delete(item.key);
    if (el && sigs.get(el) !== item.sig) {
      const fresh = make(item);
      el.replaceWith(fresh);
      if (next === el) next = fresh;
      el = fresh;
    } else if (!el) {
      el = make(item);
    }
    if (el === next) next = el.nextElementSibling;
    else parent.insertBefore(el, next);
  }
  for (const stale of existing.values()) stale.remove();
}

function make(item: Item): Element {
  const el = item.make();
  sigs.set(el, item.sig);
  keys.set(el, item.key);
  return el;
}
