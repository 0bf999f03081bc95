import { describeInstanceAttribute, describeInstances, describeUserData } from "./instances.js";
import { modifyInstanceAttribute } from "./modify.js";
import { describeNetworkInterfaces, describeSecurityGroups } from "./network.js";
import { rebootInstance, startInstance, stopInstance } from "./power.js";
import type { ActionHandler } from "./types.js";

export type { ActionHandler } from "./types.js";

/** Every action the emulator serves, by wire name. */
export const ACTIONS: Readonly<Record<string, ActionHandler>> = {
  ModifyInstanceAttribute: modifyInstanceAttribute,
  DescribeInstances: describeInstances,
  DescribeInstanceAttribute: describeInstanceAttribute,
  DescribeUserData: describeUserData,
  DescribeNetworkInterfaces: describeNetworkInterfaces,
  DescribeSecurityGroups: describeSecurityGroups,
  StartInstance: startInstance,
  StopInstance: stopInstance,
  RebootInstance: rebootInstance,
};
