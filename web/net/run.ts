/**
 * Runs something the person asked for and puts the outcome next to where they asked:
 * a failure becomes that place's notice (replacing the one before), a success clears it.
 */
import type { NoticeArea } from "../model/state.js";
import { describeError, isOffline } from "../text/errors.js";
import type { Ctx } from "./context.js";

export async function run<T>(ctx: Ctx, area: NoticeArea, action: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    const result = await fn();
    if (ctx.store.state.notices[area]?.kind === "error") ctx.store.dispatch({ type: "notice", area, notice: null });
    return result;
  } catch (err) {
    ctx.store.dispatch({ type: "notice", area, notice: { kind: "error", text: describeError(action, err), offline: isOffline(err) } });
    return undefined;
  }
}
