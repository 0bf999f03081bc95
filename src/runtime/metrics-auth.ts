/**
 * Authentication and authorization of /metrics requests, delegated to the Kubernetes API server
 * the way controller-runtime's `filters.WithAuthenticationAndAuthorization` (what kubebuilder
 * scaffolds) and kube-rbac-proxy do:
 *   1. the bearer token → TokenReview (authentication.k8s.io/v1) → user, groups, uid, extra;
 *      no token or an invalid one → 401;
 *   2. the user → SubjectAccessReview (authorization.k8s.io/v1) for the non-resource URL
 *      (`/metrics`, verb `get`, from the HTTP method) → denied → 403.
 * A review the API server could not answer is a 500 and is not cached. Answers are cached briefly,
 * with controller-runtime's TTLs (authentication 1 min; authorization allowed 5 min, denied 30 s), so
 * a Prometheus scraping every 30 s costs no API call per scrape. Cache keys are SHA-256 hashes of the
 * token: the token itself is never stored, logged or echoed.
 *
 *   const auth = new MetricsAuthorizer(kubeReviewer(kubeConfig), { logger });
 *   const verdict = await auth.check(req.headers.authorization, "/metrics", "get");
 *   // { status: 200 } | { status: 401 | 403 | 500, message }
 */
import { createHash } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { kubeRequest } from "./kube-http.js";

export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The two API calls; injectable so the cache and the decisions are unit-tested without a server. */
export interface Reviewer {
  /** The user the token belongs to, or undefined when the API server does not accept it. */
  reviewToken(token: string): Promise<UserInfo | undefined>;
  /** Whether `user` may `verb` the non-resource `path`, with the authorizer's reason. */
  reviewAccess(user: UserInfo, path: string, verb: string): Promise<{ allowed: boolean; reason: string }>;
}

export type Verdict = { status: 200; user: string } | { status: 401 | 403 | 500; message: string };

export interface MetricsAuthorizerOptions {
  authnTtlMs?: number;
  allowTtlMs?: number;
  denyTtlMs?: number;
  /** Entries per cache; the oldest go first beyond it (a flood of bad tokens cannot grow memory). */
  maxEntries?: number;
  now?: () => number;
  logger?: Logger;
}

const REVIEW_TIMEOUT_MS = 10_000;

/** TokenReview and SubjectAccessReview through the controller's own kubeconfig (its ServiceAccount). */
export function kubeReviewer(kc: KubeConfig): Reviewer {
  return {
    async reviewToken(token) {
      const r = await kubeRequest(kc, {
        method: "POST",
        path: "/apis/authentication.k8s.io/v1/tokenreviews",
        body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
        timeoutMs: REVIEW_TIMEOUT_MS,
      });
      if (r.status !== 201 && r.status !== 200) throw new Error(`TokenReview: HTTP ${r.status}`);
      const status = (r.body as { status?: { authenticated?: boolean; user?: UserInfo } }).status;
      return status?.authenticated === true && status.user?.username ? status.user : undefined;
    },
    async reviewAccess(user, path, verb) {
      const r = await kubeRequest(kc, {
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: { user: user.username, uid: user.uid, groups: user.groups, extra: user.extra, nonResourceAttributes: { path, verb } },
        },
        timeoutMs: REVIEW_TIMEOUT_MS,
      });
      if (r.status !== 201 && r.status !== 200) throw new Error(`SubjectAccessReview: HTTP ${r.status}`);
      const status = (r.body as { status?: { allowed?: boolean; reason?: string } }).status;
      return { allowed: status?.allowed === true, reason: status?.reason ?? "" };
    },
  };
}

/** A map with per-entry expiry and a size bound (insertion order = age). */
class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  constructor(
    private readonly max: number,
    private readonly now: () => number,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires > this.now()) return e.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expires: this.now() + ttlMs });
  }
}

/** "Bearer <token>" → token; anything else → undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}

/** HTTP method → the Kubernetes verb a SubjectAccessReview for a non-resource URL carries. */
export function verbFor(method: string | undefined): string {
  const verbs: Record<string, string> = { GET: "get", HEAD: "get", POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };
  return verbs[method ?? "GET"] ?? (method ?? "get").toLowerCase();
}

export class MetricsAuthorizer {
  private readonly users: TtlCache<UserInfo | null>;
  private readonly decisions: TtlCache<{ allowed: boolean; reason: string }>;
  private readonly now: () => number;

  constructor(
    private readonly reviewer: Reviewer,
    private readonly opts: MetricsAuthorizerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.users = new TtlCache(opts.maxEntries ?? 1024, this.now);
    this.decisions = new TtlCache(opts.maxEntries ?? 1024, this.now);
  }

  async check(authorization: string | undefined, path: string, verb: string): Promise<Verdict> {
    const token = bearerToken(authorization);
    if (token === undefined) return { status: 401, message: "Unauthorized: a bearer token is required" };
    const key = createHash("sha256").update(token).digest("base64url");
    let user: UserInfo | null | undefined = this.users.get(key);
    try {
      if (user === undefined) {
        user = (await this.reviewer.reviewToken(token)) ?? null;
        // Only accepted tokens are cached, like the API server's own token cache: a rejected one
        // may be valid a moment later (a just-created ServiceAccount), and costs the caller a review.
        if (user) this.users.set(key, user, this.opts.authnTtlMs ?? 60_000);
      }
      if (!user) return { status: 401, message: "Unauthorized: the token was not accepted" };
      const dkey = `${key} ${verb} ${path}`;
      let decision = this.decisions.get(dkey);
      if (!decision) {
        decision = await this.reviewer.reviewAccess(user, path, verb);
        this.decisions.set(dkey, decision, decision.allowed ? (this.opts.allowTtlMs ?? 5 * 60_000) : (this.opts.denyTtlMs ?? 30_000));
      }
      if (!decision.allowed) {
        this.opts.logger?.debug({ user: user.username, path, verb }, "metrics request forbidden");
        return { status: 403, message: `Forbidden: user "${user.username}" cannot ${verb} path "${path}"` };
      }
      return { status: 200, user: user.username };
    } catch (e) {
      this.opts.logger?.warn({ err: (e as Error).message, path }, "metrics authentication/authorization review failed");
      return { status: 500, message: "Internal Server Error: could not review the request" };
    }
  }
}
