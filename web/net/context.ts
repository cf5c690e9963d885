/** What the parts that talk to the server share: the state and the current client (which "Retry now" may replace). */
import type { ChatClient } from "../../src/client/index.js";
import type { Store } from "../store.js";

export interface Ctx {
  readonly store: Store;
  client(): ChatClient | null;
}
