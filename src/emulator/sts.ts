/**
 * STS 2015-04-01 on the emulator: AssumeRole, AssumeRoleWithOIDC, GetCallerIdentity. Requests are
 * the ones `@alicloud/credentials` sends (V1 HMAC-SHA1 in the query, parameters in a form body;
 * AssumeRoleWithOIDC unsigned); answers carry the fields it reads (`Credentials.AccessKeyId`,
 * `AccessKeySecret`, `SecurityToken`, `Expiration`). Codes and their sources: docs/emulator.md
 * "STS and RAM".
 */
import { ecsError } from "./errors.js";
import { actionAllowed, type Iam, type Principal, type RamRole } from "./iam.js";
import type { Params } from "./protocol.js";

export const STS_VERSION = "2015-04-01";

export interface StsContext {
  iam: Iam;
  params: Params;
  /** The signer; absent for AssumeRoleWithOIDC, which is not signed. */
  principal: Principal | undefined;
  now: () => number;
}

export type StsHandler = (ctx: StsContext) => Record<string, unknown>;

/** RoleSessionName: 2-64 of letters, digits and `.@-_` (AssumeRole API page). */
const SESSION_NAME = /^[A-Za-z0-9.@_-]{2,64}$/;
const ROLE_ARN = /^acs:ram::\d+:role\/[A-Za-z0-9.-]+$/i;

const TRUST_DENIED = "No permission perform sts:AssumeRole on this Role. Maybe you should check the role's trust policy";

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function maxLabel(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600}hr` : `${seconds}s`;
}

function sessionName(params: Params, fallback: string): string {
  const name = params.str("RoleSessionName") ?? fallback;
  if (!SESSION_NAME.test(name)) throw ecsError("InvalidParameter.RoleSessionName");
  return name;
}

function findRole(iam: Iam, params: Params): RamRole {
  const arn = params.required("RoleArn");
  if (!ROLE_ARN.test(arn)) throw ecsError("InvalidParameter.RoleArn");
  const role = iam.role(arn);
  if (!role) throw ecsError("EntityNotExist.Role", arn);
  return role;
}

function durationSeconds(params: Params, role: RamRole): number {
  const d = params.int("DurationSeconds") ?? 3600;
  if (d < 900 || d > role.maxSessionDurationSeconds) throw ecsError("InvalidParameter.DurationSeconds", maxLabel(role.maxSessionDurationSeconds));
  return d;
}

function credentialsBody(ctx: StsContext, role: RamRole, name: string, duration: number): Record<string, unknown> {
  const s = ctx.iam.issue(role, name, duration, ctx.now());
  return {
    Credentials: {
      AccessKeyId: s.key.accessKeyId,
      AccessKeySecret: s.key.accessKeySecret,
      SecurityToken: s.key.securityToken,
      Expiration: isoSeconds(s.key.expiration),
    },
    AssumedRoleUser: { Arn: s.principal.arn, AssumedRoleId: s.principal.userId },
  };
}

const assumeRole: StsHandler = (ctx) => {
  const { iam, params } = ctx;
  const caller = ctx.principal!;
  // Order: who may call STS at all, then the role, then the request's values.
  if (caller.identityType === "Account") throw ecsError("NoPermission", "Roles may not be assumed by root accounts.");
  if (!actionAllowed(caller.allowedActions, "sts:AssumeRole")) {
    throw ecsError("NoPermission", "You are not authorized to do this action. You should be authorized by RAM.");
  }
  const role = findRole(iam, params);
  const trusted = role.trustedAccounts ?? [role.accountId];
  if (!trusted.includes(caller.accountId)) throw ecsError("NoPermission", TRUST_DENIED);
  if (role.externalId !== undefined && params.str("ExternalId") !== role.externalId) throw ecsError("NoPermission", TRUST_DENIED);
  const name = sessionName(params, "");
  return credentialsBody(ctx, role, name, durationSeconds(params, role));
};

interface OidcClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
}

function invalidToken(why: string): never {
  throw ecsError("AuthenticationFail.OIDCToken.Invalid", why);
}

/** The token's claims. The signature is not checked (the emulator has no issuer keys): docs/emulator.md. */
function oidcClaims(token: string): OidcClaims {
  const parts = token.trim().split(".");
  if (parts.length !== 3) invalidToken("The OIDC token is not a JsonWebToken.");
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    invalidToken("The OIDC token is not a JsonWebToken.");
  }
  const { iss, sub, aud, exp } = payload;
  if (typeof iss !== "string" || typeof sub !== "string" || typeof exp !== "number") invalidToken("The OIDC token lacks iss, sub or exp.");
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === "string") : [];
  return { iss, sub, aud: audiences, exp };
}

const assumeRoleWithOidc: StsHandler = (ctx) => {
  const { iam, params, now } = ctx;
  const providerArn = params.required("OIDCProviderArn");
  const token = params.required("OIDCToken");
  const provider = iam.oidcProvider(providerArn);
  if (!provider) throw ecsError("EntityNotExist.OIDCProvider", providerArn);
  const claims = oidcClaims(token);
  if (claims.exp * 1000 <= now()) throw ecsError("AuthenticationFail.OIDCToken.Expired");
  if (provider.issuer !== undefined && claims.iss !== provider.issuer) invalidToken("The issuer of the OIDC token does not match the OIDC provider.");
  if (!claims.aud.some((a) => provider.audiences.includes(a))) invalidToken("The audience of the OIDC token is not a client ID of the OIDC provider.");
  const role = findRole(iam, params);
  if (!role.oidcProviderArns.includes(providerArn)) throw ecsError("NoPermission", TRUST_DENIED);
  const name = sessionName(params, `oidc-${Math.floor(now() / 1000)}`);
  return {
    ...credentialsBody(ctx, role, name, durationSeconds(params, role)),
    OIDCTokenInfo: { Subject: claims.sub, Issuer: claims.iss, ClientIds: claims.aud.join(",") },
  };
};

const getCallerIdentity: StsHandler = ({ principal }) => {
  const p = principal!;
  return {
    AccountId: p.accountId,
    UserId: p.userId,
    Arn: p.arn,
    IdentityType: p.identityType,
    PrincipalId: p.userId,
    ...(p.roleName !== undefined ? { RoleId: p.userId.split(":")[0] } : {}),
  };
};

/** STS actions by wire name; `signed: false` ones are served without a signature. */
export const STS_ACTIONS: Readonly<Record<string, { handler: StsHandler; signed: boolean }>> = {
  AssumeRole: { handler: assumeRole, signed: true },
  AssumeRoleWithOIDC: { handler: assumeRoleWithOidc, signed: false },
  GetCallerIdentity: { handler: getCallerIdentity, signed: true },
};
