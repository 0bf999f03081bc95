/**
 * The emulator's account model: accounts, RAM users (access keys), RAM roles with a per-role list of
 * allowed actions, OIDC identity providers, and the temporary STS credentials issued for roles.
 *
 * Deliberately small: a policy is a list of allowed actions (`ecs:ModifyInstanceAttribute`,
 * `ecs:Describe*`, `*`), a trust policy is a list of trusted accounts, an optional ExternalId and the
 * OIDC providers that may assume the role. That is what the controller's tests need to see the real
 * error codes (docs/emulator.md "STS and RAM"); RAM's JSON policy language is not modelled.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { wildcardMatch } from "./actions/paging.js";
import type { AccessKey } from "./signature.js";

/** The account that owns keys the seed does not place elsewhere (16 digits, like a real account ID). */
export const DEFAULT_ACCOUNT_ID = "1000000000000001";

const accountId = z.string().regex(/^\d{16}$/, "a 16-digit account ID");
const actions = z.array(z.string().min(1)).default(["*"]);

export const ramUserSchema = z.object({
  accessKeyId: z.string().min(1),
  accessKeySecret: z.string().min(1),
  accountId: accountId.default(DEFAULT_ACCOUNT_ID),
  /** Default: the key ID. */
  userName: z.string().optional(),
  /** The account's own (root) key: may call APIs, may not assume roles (STS `NoPermission`). */
  root: z.boolean().default(false),
  /** A disabled key gets `InvalidAccessKeyId.Inactive`. */
  disabled: z.boolean().default(false),
  /** RAM actions this user may call, `*` wildcards (e.g. `ecs:Describe*`, `sts:AssumeRole`). */
  allowedActions: actions,
});

export const ramRoleSchema = z.object({
  roleName: z.string().regex(/^[A-Za-z0-9.-]{1,64}$/),
  accountId: accountId.default(DEFAULT_ACCOUNT_ID),
  /** What the role's sessions may call (its permission policy). */
  allowedActions: actions,
  /** Upper bound of DurationSeconds (RAM: 3600 s by default, at most 43200 s). */
  maxSessionDurationSeconds: z.number().int().min(900).max(43200).default(3600),
  /** Trust policy: accounts whose RAM users and roles may call AssumeRole. Default: the role's own account. */
  trustedAccounts: z.array(accountId).optional(),
  /** Trust policy condition `sts:ExternalId`: AssumeRole must send this value. */
  externalId: z.string().optional(),
  /** Trust policy: OIDC providers (ARNs) whose tokens may assume the role (AssumeRoleWithOIDC). */
  oidcProviderArns: z.array(z.string()).default([]),
});

export const oidcProviderSchema = z.object({
  /** e.g. acs:ram::1000000000000001:oidc-provider/ack-rrsa-c1 */
  arn: z.string().min(1),
  /** Required `iss` of the token; unset: any issuer. */
  issuer: z.string().optional(),
  /** Accepted `aud` values (the RRSA token's audience is sts.aliyuncs.com). */
  audiences: z.array(z.string()).default(["sts.aliyuncs.com"]),
});

export const iamSeedSchema = z.object({
  users: z.array(ramUserSchema).default([]),
  roles: z.array(ramRoleSchema).default([]),
  oidcProviders: z.array(oidcProviderSchema).default([]),
  /**
   * Test knob: issued credentials expire after at most this many seconds, whatever DurationSeconds
   * asked (real STS would refuse < 900 s; clients cannot ask for less).
   */
  stsLifetimeSeconds: z.number().int().positive().optional(),
});
type RamUser = z.output<typeof ramUserSchema>;
export type RamRole = z.output<typeof ramRoleSchema>;
type OidcProvider = z.output<typeof oidcProviderSchema>;

/** Who signed a request, as RAM and GetCallerIdentity see it. */
export interface Principal {
  accountId: string;
  identityType: "Account" | "RAMUser" | "AssumedRoleUser";
  arn: string;
  /** RAM user ID, or `<roleId>:<session>` for a role session. */
  userId: string;
  allowedActions: readonly string[];
  roleName?: string;
  sessionName?: string;
}

interface Session {
  key: AccessKey & { securityToken: string; expiration: number };
  principal: Principal;
}

export function roleArn(role: Pick<RamRole, "accountId" | "roleName">): string {
  return `acs:ram::${role.accountId}:role/${role.roleName.toLowerCase()}`;
}

function stableId(seed: string): string {
  let h = 0;
  for (const c of seed) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return String(300000000000000000n + BigInt(h));
}

/** `ecs:ModifyInstanceAttribute` against `ecs:*`, `*`, `ecs:Describe*` (case-insensitive, as RAM actions). */
export function actionAllowed(allowed: readonly string[], ramAction: string): boolean {
  const a = ramAction.toLowerCase();
  return allowed.some((p) => wildcardMatch(p.toLowerCase(), a));
}

const MAX_EXPIRED_KEEP_MS = 60 * 60_000;

export class Iam {
  private users = new Map<string, RamUser>();
  private roles = new Map<string, RamRole>();
  private oidc = new Map<string, OidcProvider>();
  private sessions = new Map<string, Session>();
  /** Cap on issued lifetimes, seconds (undefined: as asked). */
  stsLifetimeSeconds: number | undefined;

  clear(): void {
    this.users.clear();
    this.roles.clear();
    this.oidc.clear();
    this.sessions.clear();
    this.stsLifetimeSeconds = undefined;
  }

  applySeed(input: unknown): void {
    const seed = iamSeedSchema.parse(input);
    for (const u of seed.users) this.users.set(u.accessKeyId, u);
    for (const r of seed.roles) this.roles.set(roleArn(r), r);
    for (const p of seed.oidcProviders) this.oidc.set(p.arn, p);
    if (seed.stsLifetimeSeconds !== undefined) this.stsLifetimeSeconds = seed.stsLifetimeSeconds;
  }

  /** The key table entry of a seeded user or an issued session (expired ones too, so they answer `Expired`). */
  key(accessKeyId: string): (AccessKey & { disabled?: boolean }) | undefined {
    const u = this.users.get(accessKeyId);
    if (u) return { accessKeyId: u.accessKeyId, accessKeySecret: u.accessKeySecret, disabled: u.disabled };
    return this.sessions.get(accessKeyId)?.key;
  }

  /** The principal behind a key; keys the seed does not name are RAM users of the default account allowed everything. */
  principal(accessKeyId: string): Principal {
    const session = this.sessions.get(accessKeyId);
    if (session) return session.principal;
    const u = this.users.get(accessKeyId);
    const acct = u?.accountId ?? DEFAULT_ACCOUNT_ID;
    if (u?.root) return { accountId: acct, identityType: "Account", arn: `acs:ram::${acct}:root`, userId: acct, allowedActions: u.allowedActions };
    const name = u?.userName ?? accessKeyId;
    return {
      accountId: acct,
      identityType: "RAMUser",
      arn: `acs:ram::${acct}:user/${name}`,
      userId: stableId(`${acct}/${name}`),
      allowedActions: u?.allowedActions ?? ["*"],
    };
  }

  role(arn: string): RamRole | undefined {
    return this.roles.get(arn.toLowerCase());
  }

  oidcProvider(arn: string): OidcProvider | undefined {
    return this.oidc.get(arn);
  }

  /** Issues a session for the role: `STS.`-prefixed key, secret, token, expiry capped by `stsLifetimeSeconds`. */
  issue(role: RamRole, sessionName: string, durationSeconds: number, now: number): Session {
    this.prune(now);
    const lifetime = Math.min(durationSeconds, this.stsLifetimeSeconds ?? durationSeconds);
    // Whole seconds: the wire format (`2026-01-01T00:00:00Z`) has no fraction.
    const expiration = Math.floor((now + lifetime * 1000) / 1000) * 1000;
    const roleId = stableId(roleArn(role));
    const session: Session = {
      key: {
        accessKeyId: `STS.NT${randomBytes(12).toString("base64url")}`,
        accessKeySecret: randomBytes(24).toString("base64url"),
        securityToken: `CAIS${randomBytes(48).toString("base64")}`,
        expiration,
      },
      principal: {
        accountId: role.accountId,
        identityType: "AssumedRoleUser",
        arn: `acs:ram::${role.accountId}:assumed-role/${role.roleName.toLowerCase()}/${sessionName}`,
        userId: `${roleId}:${sessionName}`,
        allowedActions: role.allowedActions,
        roleName: role.roleName,
        sessionName,
      },
    };
    this.sessions.set(session.key.accessKeyId, session);
    return session;
  }

  /** Issued sessions, for the admin API (never secrets). */
  listSessions(): Array<{ accessKeyId: string; arn: string; expiration: string }> {
    return [...this.sessions.values()].map((s) => ({
      accessKeyId: s.key.accessKeyId,
      arn: s.principal.arn,
      expiration: new Date(s.key.expiration).toISOString(),
    }));
  }

  /** Admin: expire every issued session now (or those of one role), to test refresh paths. */
  expireSessions(now: number, roleName?: string): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      if (roleName !== undefined && s.principal.roleName?.toLowerCase() !== roleName.toLowerCase()) continue;
      s.key.expiration = Math.min(s.key.expiration, now);
      n++;
    }
    return n;
  }

  private prune(now: number): void {
    const cutoff = now - MAX_EXPIRED_KEEP_MS;
    for (const [id, s] of this.sessions) if (s.key.expiration < cutoff) this.sessions.delete(id);
  }
}
