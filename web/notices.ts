/** Messages to the person at the top of the page: errors stay until dismissed, news fades by itself. */
import { byId, h } from "./dom.js";
import { describeError } from "./text.js";

const MAX_SHOWN = 3;
const INFO_MS = 8000;

export type NoticeKind = "error" | "info";

export function notify(kind: NoticeKind, text: string): void {
  const box = byId("notices", HTMLDivElement);
  const dismiss = (): void => item.remove();
  const item = h(
    "div",
    { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("p", {}, text),
    h("button", { type: "button", class: "notice-close", "aria-label": "Dismiss", onclick: dismiss }, "✕"),
  );
  box.append(item);
  while (box.children.length > MAX_SHOWN) box.firstElementChild?.remove();
  if (kind === "info") setTimeout(dismiss, INFO_MS);
}

/** Runs a request; on failure shows what went wrong and resolves to undefined. */
export async function attempt<T>(action: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    notify("error", describeError(action, err));
    return undefined;
  }
}
