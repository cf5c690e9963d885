/** What clicking in the drawn page asks the page to do; app.ts provides it. */
import type { Event } from "../model/events.js";
import type { ConvKey } from "../model/keys.js";

export interface Actions {
  dispatch(event: Event): void;
  open(key: ConvKey): void;
  /** Opens the direct conversation with a person (from their name). */
  writeTo(userId: string): void;
  join(roomId: string): void;
  leave(roomId: string): void;
  removeRoom(roomId: string): void;
  retrySend(id: string): void;
  discardSend(id: string): void;
  editMessage(messageId: string): void;
  deleteMessage(messageId: string): void;
  olderPage(): void;
  retryNow(): void;
}
