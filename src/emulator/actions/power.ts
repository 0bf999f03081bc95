/** StartInstance, StopInstance, RebootInstance: drive the state machine with its configured delays. */
import { ecsError } from "../errors.js";
import type { ActionHandler } from "./types.js";

function dryRun(params: { bool(name: string): boolean | undefined }): void {
  if (params.bool("DryRun")) throw ecsError("DryRunOperation");
}

export const startInstance: ActionHandler = ({ store, params }) => {
  const id = params.required("InstanceId");
  store.getInstance(id);
  dryRun(params);
  store.start(id);
  return {};
};

export const stopInstance: ActionHandler = ({ store, params }) => {
  const id = params.required("InstanceId");
  store.getInstance(id);
  dryRun(params);
  store.stop(id);
  return {};
};

export const rebootInstance: ActionHandler = ({ store, params }) => {
  const id = params.required("InstanceId");
  store.getInstance(id);
  dryRun(params);
  store.reboot(id);
  return {};
};
