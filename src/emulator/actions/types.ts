import type { Params } from "../protocol.js";
import type { VerifiedCaller } from "../signature.js";
import type { Store } from "../state.js";

export interface ActionContext {
  store: Store;
  params: Params;
  caller: VerifiedCaller;
}

/** Returns the response body without `RequestId` (the server adds it). Throws EcsError on failure. */
export type ActionHandler = (ctx: ActionContext) => Record<string, unknown>;
