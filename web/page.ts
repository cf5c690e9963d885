/**
 * What the parts of the page share: the connection, the state they all change, and
 * the ways to show a change. `app.ts` provides it, so that each part depends on this
 * and not on how the others are put together.
 */
import type { ChatClient } from "../src/client/index.js";
import type { ConvKey } from "./model.js";
import type { AppState } from "./view.js";

export interface OpenOptions {
  /** Switch a narrow screen to the conversation pane. */
  show?: boolean;
  /** Move the keyboard into the conversation. */
  focus?: boolean;
}

export interface Page {
  readonly client: ChatClient;
  readonly state: AppState;
  open(key: ConvKey, options?: OpenOptions): void;
  /** Redraws the lists and the open conversation; `stick` scrolls to the newest message. */
  draw(stick?: boolean): void;
  /** A conversation that is not open only shows in the lists (its unread badge). */
  drawIfCurrent(key: ConvKey, stick?: boolean): void;
  drawLists(): void;
}
