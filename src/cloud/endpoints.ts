// ECS and STS endpoints of an EcsProviderConfig (src/api/provider-config.ts `endpoint`):
// `network: public|vpc`, per-region overrides, and the https rule — an http:// endpoint is refused
// unless the config (`endpoint.allowInsecure`) or the controller (`--allow-insecure-endpoints`, for
// tests against the emulator) allows it, because ModifyInstanceAttribute carries passwords and user
// data. A refusal is one line and happens before any request is built.
//
// Host names follow the official clients: `ecs[-vpc].<region>.aliyuncs.com` (src/cloud/rpc.ts has the
// regions the generated ECS client maps elsewhere) and, for STS, the rule of `@alicloud/credentials`
// (providers/ram_role_arn.js): `sts.aliyuncs.com`, or `sts[-vpc].<region>.aliyuncs.com` with a region.

import { type EndpointChoice, parseEndpoint, type ParsedEndpoint } from "./client.js";

export type { EndpointChoice, ParsedEndpoint };

export type Network = "public" | "vpc";

/** The `endpoint` block of a provider config (as its schema outputs it). */
export interface EndpointSpec {
  network?: Network | undefined;
  regionOverrides?: ReadonlyArray<{ regionId: string; endpoint: string }> | undefined;
  allowInsecure?: boolean | undefined;
}

export interface EndpointPolicy {
  /** `--allow-insecure-endpoints`: http:// allowed for every config (tests). */
  allowInsecure?: boolean | undefined;
}

export class EndpointRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EndpointRefused";
  }
}

function insecureAllowed(spec: EndpointSpec | undefined, policy: EndpointPolicy): boolean {
  return spec?.allowInsecure === true || policy.allowInsecure === true;
}

/** Parses an endpoint URL and applies the https rule; `what` names it in the one-line refusal. */
export function checkedEndpoint(url: string, what: string, allowInsecure: boolean): ParsedEndpoint {
  let parsed: ParsedEndpoint;
  try {
    parsed = parseEndpoint(url);
  } catch (err) {
    throw new EndpointRefused(`${what}: ${(err as Error).message}`);
  }
  if (parsed.protocol !== "https" && !allowInsecure) {
    throw new EndpointRefused(
      `${what} ${url} is not https:// (requests carry passwords and user data); set endpoint.allowInsecure or --allow-insecure-endpoints to allow it`,
    );
  }
  return parsed;
}

/**
 * A config's endpoint choice for `regionId` (what an EcsTarget carries; the client pool applies it by
 * the precedence in src/cloud/client.ts): its override for that region (https rule applied) and its
 * network. Undefined when the config says nothing, so the controller's settings apply unchanged.
 * Throws EndpointRefused for an override the https rule refuses.
 */
export function ecsEndpointFor(spec: EndpointSpec | undefined, regionId: string, policy: EndpointPolicy = {}): EndpointChoice | undefined {
  const override = spec?.regionOverrides?.find((o) => o.regionId === regionId);
  const url = override ? checkedEndpoint(override.endpoint, `endpoint.regionOverrides[${regionId}]`, insecureAllowed(spec, policy)) : undefined;
  const network = spec?.network;
  if (!url && !network) return undefined;
  return { ...(url ? { url } : {}), ...(network ? { network } : {}) };
}

/** Every problem of a config's endpoint block, one line each (empty: usable). For a config condition. */
export function endpointProblems(spec: EndpointSpec | undefined, policy: EndpointPolicy = {}): string[] {
  const problems: string[] = [];
  for (const o of spec?.regionOverrides ?? []) {
    try {
      checkedEndpoint(o.endpoint, `endpoint.regionOverrides[${o.regionId}]`, insecureAllowed(spec, policy));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}

/** The ECS host the official client derives for a region and network (no override). */
export function derivedEcsHost(regionId: string, network: Network): string {
  return `${network === "vpc" ? "ecs-vpc" : "ecs"}.${regionId}.aliyuncs.com`;
}

/**
 * The STS endpoint: an explicit override (`--sts-endpoint`, `host[:port]` meaning https), else the
 * library's rule. A VPC network without a region uses the public central endpoint: the VPC host
 * needs a region (ALIBABA_CLOUD_STS_REGION). An http:// override needs `allowInsecure`
 * (`--allow-insecure-endpoints`); even then only the identity check (GetCallerIdentity, our own call
 * in src/cloud/credentials.ts) speaks http — the library's AssumeRole / AssumeRoleWithOIDC always
 * use https (providers/ram_role_arn.js `withProtocol('https')`).
 */
export function stsEndpoint(opts: {
  network: Network;
  region?: string | undefined;
  override?: string | undefined;
  allowInsecure?: boolean | undefined;
}): ParsedEndpoint {
  if (opts.override) return checkedEndpoint(opts.override, "--sts-endpoint", opts.allowInsecure === true);
  if (!opts.region) return { host: "sts.aliyuncs.com", protocol: "https" };
  return { host: `${opts.network === "vpc" ? "sts-vpc" : "sts"}.${opts.region}.aliyuncs.com`, protocol: "https" };
}
