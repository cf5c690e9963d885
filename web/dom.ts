/** A few DOM helpers: build elements without innerHTML (user text only ever becomes text nodes). */

type Child = Node | string | null | undefined | false;
type AttrValue = string | number | boolean | undefined | ((ev: Event) => void);

/**
 * `h("button", { type: "button", class: "x", onclick: fn }, "Label")`. Keys starting
 * with `on` add listeners; `true`/`false` set or omit a boolean attribute; `undefined` is skipped.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, AttrValue> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
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

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

/** Runs `run` on submitting the form #id, in place of the browser's page load. */
export function onSubmit(id: string, run: (form: HTMLFormElement) => Promise<unknown> | void): void {
  const form = byId(id, HTMLFormElement);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void run(form);
  });
}
