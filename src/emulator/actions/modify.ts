/** ModifyInstanceAttribute: every rule lives in rules.ts; writes happen only if all pass. */
import { planModify } from "../rules.js";
import type { ActionHandler } from "./types.js";

export const modifyInstanceAttribute: ActionHandler = ({ store, params }) => {
  const plan = planModify(store, params);
  const before = structuredClone(plan.instance);
  plan.apply();
  store.recordWrite(before, plan.instance);
  return {};
};
