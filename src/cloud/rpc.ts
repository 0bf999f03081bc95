// The wire shape of ECS RPC calls (API version 2014-05-26), without the generated model package.
//
// Why hand-written: the official generated client (`@alicloud/ecs20140526`) is ~3,400 model files
// whose loading alone costs ~40 MiB of RSS (issue 15), and each of its action methods is only
// "copy the request's members into a query map under their API names, flatten, callApi with fixed
// Params, cast the JSON answer into models". The controller uses five actions; this module keeps
// the three data-only parts of that for them, and the official core (`@alicloud/openapi-core`) does
// everything else as it does for the generated client: flattening (OpenApiUtil.query), endpoint
// rules, V3 signing, credentials, HTTP, error classes. test/unit/cloud/rpc.test.ts checks each part
// against the generated client (a devDependency): the same Params and query per action, the same
// host per region, the same model key for every response field name.

import { $OpenApiUtil, OpenApiUtil } from "@alicloud/openapi-core";

export const ECS_API_VERSION = "2014-05-26";

/** The ECS actions the controller calls. */
export type EcsAction = "DescribeInstances" | "DescribeInstanceAttribute" | "DescribeUserData" | "DescribeNetworkInterfaces" | "ModifyInstanceAttribute";

/** A parameter value before flattening: lists become `Name.1`, `Name.2`; objects `Name.Member`. */
export type RpcValue = string | number | boolean | readonly RpcValue[] | { readonly [member: string]: RpcValue | undefined };

/** An action's parameters under their API names (`InstanceId`, `CpuOptions: { Core }`); undefined members are not sent. */
export type RpcParams = Readonly<Record<string, RpcValue | undefined>>;

/** The call description every ECS action uses (what the generated client passes to callApi). */
export function rpcCallParams(action: EcsAction): $OpenApiUtil.Params {
  return new $OpenApiUtil.Params({
    action,
    version: ECS_API_VERSION,
    protocol: "HTTPS",
    pathname: "/",
    method: "POST",
    authType: "AK",
    style: "RPC",
    reqBodyType: "formData",
    bodyType: "json",
  });
}

/** The flat query (`SecurityGroupIds.1=…`, `CpuOptions.Core=2`), by the core's own flattening. */
export function flattenParams(params: RpcParams): Record<string, string> {
  return OpenApiUtil.query(params);
}

/**
 * Regions the generated ECS client sends to a host other than `ecs[-<network>].<region>.aliyuncs.com`
 * (its `_endpointMap`; rpc.test.ts compares this table with it). Checked before the network rule,
 * as the generated client does.
 */
const SHARED_HOST = "ecs-cn-hangzhou.aliyuncs.com";
const CENTRAL_HOST = "ecs.aliyuncs.com";
const NEBULA_HOST = "ecs.cn-qingdao-nebula.aliyuncs.com";
const ENDPOINT_MAP: Readonly<Record<string, string>> = {
  "cn-hangzhou": SHARED_HOST,
  "cn-shanghai-finance-1": SHARED_HOST,
  "cn-shenzhen-finance-1": SHARED_HOST,
  "cn-north-2-gov-1": CENTRAL_HOST,
  "ap-northeast-2-pop": CENTRAL_HOST,
  "cn-beijing-finance-pop": CENTRAL_HOST,
  "cn-beijing-gov-1": CENTRAL_HOST,
  "cn-beijing-nu16-b01": SHARED_HOST,
  "cn-edge-1": NEBULA_HOST,
  "cn-fujian": SHARED_HOST,
  "cn-haidian-cm12-c01": SHARED_HOST,
  "cn-hangzhou-bj-b01": SHARED_HOST,
  "cn-hangzhou-finance": CENTRAL_HOST,
  "cn-hangzhou-internal-prod-1": SHARED_HOST,
  "cn-hangzhou-internal-test-1": SHARED_HOST,
  "cn-hangzhou-internal-test-2": SHARED_HOST,
  "cn-hangzhou-internal-test-3": SHARED_HOST,
  "cn-hangzhou-test-306": SHARED_HOST,
  "cn-hongkong-finance-pop": CENTRAL_HOST,
  "cn-huhehaote-nebula-1": NEBULA_HOST,
  "cn-shanghai-et15-b01": SHARED_HOST,
  "cn-shanghai-et2-b01": SHARED_HOST,
  "cn-shanghai-inner": CENTRAL_HOST,
  "cn-shanghai-internal-test-1": SHARED_HOST,
  "cn-shenzhen-inner": CENTRAL_HOST,
  "cn-shenzhen-st4-d01": SHARED_HOST,
  "cn-shenzhen-su18-b01": SHARED_HOST,
  "cn-wuhan": CENTRAL_HOST,
  "cn-yushanfang": CENTRAL_HOST,
  "cn-zhangbei": CENTRAL_HOST,
  "cn-zhangbei-na61-b01": SHARED_HOST,
  "cn-zhangjiakou-na62-a01": "ecs.cn-zhangjiakou.aliyuncs.com",
  "cn-zhengzhou-nebula-1": NEBULA_HOST,
  "eu-west-1-oxs": "ecs.cn-shenzhen-cloudstone.aliyuncs.com",
  "rus-west-1-pop": CENTRAL_HOST,
};

/** The ECS host for a region when no endpoint is configured (the generated client's choice). */
export function regionalHost(regionId: string, network: string | undefined): string {
  return ENDPOINT_MAP[regionId] ?? OpenApiUtil.getEndpointRules("ecs", regionId, "regional", network ?? "", "");
}

// Answers use one vocabulary of field names, renamed for every key of every instance of every
// DescribeInstances: remember each (bounded, in case an answer carries map-like keys).
const MODEL_KEYS = new Map<string, string>();
const MODEL_KEYS_MAX = 4096;

/**
 * A response field's name in the generated client's models: lower camel case, except names that
 * start with two capitals (`OSType`) — but `VSwitch…` becomes `vSwitch…`.
 */
export function modelKey(wire: string): string {
  let key = MODEL_KEYS.get(wire);
  if (key === undefined) {
    key = /^[A-Z]{2}/.test(wire) && !wire.startsWith("VSwitch") ? wire : wire.charAt(0).toLowerCase() + wire.slice(1);
    if (MODEL_KEYS.size < MODEL_KEYS_MAX) MODEL_KEYS.set(wire, key);
  }
  return key;
}

/** A JSON answer with every object key renamed by `modelKey` (the shape src/cloud/model.ts reads). */
export function toModelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toModelKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const k in value) out[modelKey(k)] = toModelKeys((value as Record<string, unknown>)[k]);
  return out;
}
