// ECS error model and the ONE classification table the controller uses.
//
// Every failure of an ECS call becomes an `EcsError` carrying the raw ECS code (for
// `status.error.code`), a scrubbed message (no RequestId, no secret values), the HTTP status,
// the RequestId (for Events/logs only), an optional retry-after and the handling class.
//
// Classify by code, never by HTTP status alone: several 404s are spec errors, several 400s are
// state waits, and all throttling codes are 400. HTTP status is only the
// fallback for codes the table does not know (5xx → transient, anything else → terminal).

/**
 * How the controller handles an error: the reconciler's error policy (src/reconciler/error-policy.ts)
 * has one row per class (throttling is a transient error with its own row there).
 */
export type ErrorClass =
  /** Retry soon with backoff (the work queue's; reads also get a short in-call retry). */
  | "transient"
  /** The instance is in the wrong state for this change; retry once the state changes. */
  | "waitForState"
  /** The instance does not exist (or is not visible to these credentials). */
  | "notFound"
  /** The instance is under a security lock; pause for a long interval. */
  | "locked"
  /** Credentials, signature or permission problem; stop until the credentials change. */
  | "auth"
  /** Everything else: stop retrying until the spec changes. */
  | "terminal";

/** Classes the controller retries by itself (status.error.retryable); see ERROR_POLICY for how. */
function isRetryableClass(c: ErrorClass): boolean {
  return c === "transient" || c === "waitForState";
}

/** Synthetic codes for failures that never produced an ECS error body. */
export const SyntheticCode = {
  /** Connection refused/reset, DNS failure, socket hang-up … */
  Network: "NetworkError",
  /** Connect or read timeout of the SDK's HTTP client. */
  Timeout: "RequestTimeout",
  /** The endpoint answered with something that is not JSON (e.g. an HTML 502 page of a gateway). */
  InvalidResponse: "InvalidResponse",
  /** The default credential chain found no credentials, or fetching STS credentials failed. */
  CredentialsUnavailable: "CredentialsUnavailable",
  /** Our own client-side limiter refused to wait that long (a bucket paused after throttling). */
  ClientThrottled: "Throttling.ClientSide",
  /** Anything else thrown by the SDK or our code that is not an ECS answer. */
  Unexpected: "UnexpectedError",
} as const;

/** Where a classification rule comes from (documentation page, SDK behaviour, or our policy). */
export type RuleSource = string;

export interface ClassificationRule {
  /** `exact` code, code `prefix` (e.g. `InvalidInstanceStatus.`), or substring `contains`. */
  readonly match: { exact: string } | { prefix: string } | { contains: string } | { suffix: string };
  readonly errorClass: ErrorClass;
  readonly source: RuleSource;
  /** Optional refinement by message (OperationDenied is W or X depending on its message). */
  readonly messageRule?: { pattern: RegExp; errorClass: ErrorClass; otherwise: ErrorClass };
  readonly note?: string;
}

const API = "ModifyInstanceAttribute API page (alibabacloud.com)";
const COMMON = "ECS common error codes (AlibabaCloudDocs/ecs 2021, Response results)";
const CLS = "controller policy";
const TF = "terraform-provider-alicloud retry sets (alicloud/errors.go, common.go)";
const SIG = "Alibaba Cloud request-signature rules (V3 ACS3-HMAC-SHA256, V1 HMAC-SHA1)";
const OURS = "synthetic code of this controller";
const SDK = "SDK behaviour (@alicloud/openapi-core 1.0.8, @alicloud/ecs20140526 7.11.6)";
const STS = "Alibaba Cloud STS token errors (common to all RPC APIs)";

/**
 * The classification table. Exact rules are checked first, then prefix/suffix/contains rules in
 * order, then the HTTP-status fallback. Keep it the single source: docs/cloud.md renders it.
 */
export const CLASSIFICATION_RULES: readonly ClassificationRule[] = [
  // ---- transient -------------------------------------------------------------------------------
  {
    match: { contains: "Throttling" },
    errorClass: "transient",
    source: `${CLS}; ${COMMON}; ${TF}`,
    note: "Throttling, Throttling.User, Throttling.Api, Throttling.ConcurrentLimitExceeded, Rejected.Throttling; the rate limiter also pauses the (account, region, action) bucket",
  },
  {
    match: { prefix: "ServiceUnavailable" },
    errorClass: "transient",
    source: `${CLS}; ${COMMON}`,
    note: "ServiceUnavailable, ServiceUnavailable.RegionMaintaining (503)",
  },
  { match: { exact: "InternalError" }, errorClass: "transient", source: `${API}; ${COMMON}` },
  { match: { exact: "UnknownError" }, errorClass: "transient", source: `${CLS}; ${COMMON}` },
  { match: { exact: "OperationConflict" }, errorClass: "transient", source: `${CLS}; ${COMMON}` },
  { match: { exact: "InvalidOperation.Conflict" }, errorClass: "transient", source: `${CLS}; ${TF}` },
  { match: { exact: "LastTokenProcessing" }, errorClass: "transient", source: `${CLS}; ${COMMON}` },
  {
    match: { exact: "SignatureNonceUsed" },
    errorClass: "transient",
    source: `${COMMON}; ${SIG}`,
    note: "nonce collision; the SDK draws a fresh nonce on every attempt",
  },
  { match: { exact: SyntheticCode.Network }, errorClass: "transient", source: `${SDK}: Error with code ECONNREFUSED/ECONNRESET/…; ${OURS}` },
  { match: { exact: SyntheticCode.Timeout }, errorClass: "transient", source: `${SDK}: RequestTimeoutError; ${OURS}` },
  {
    match: { exact: SyntheticCode.InvalidResponse },
    errorClass: "transient",
    source: `${SDK}: SyntaxError when a proxy answers with a non-JSON page; ${OURS}`,
  },

  // ---- wait for state --------------------------------------------------------------------------
  { match: { exact: "IncorrectInstanceStatus" }, errorClass: "waitForState", source: `${API}; ${CLS}` },
  { match: { exact: "InvalidStatus.StoppedRequired" }, errorClass: "waitForState", source: `${API}; ${CLS}` },
  {
    match: { prefix: "InvalidInstanceStatus." },
    errorClass: "waitForState",
    source: `${API}; ${CLS}`,
    note: "NotRunning, NeedRestart (404!), CreditSpecRestricted (long: account overdue)",
  },
  { match: { exact: "InvalidOperation.InvalidEcsState" }, errorClass: "waitForState", source: `${API}; ${CLS}` },
  { match: { exact: "InvalidOperation.InstanceStatusNotSupport" }, errorClass: "waitForState", source: `${API}; ${CLS}` },
  { match: { exact: "InvalidOperation.InstanceStatusUnsupported" }, errorClass: "waitForState", source: `${API}; ${CLS}` },
  {
    match: { exact: "OperationDenied" },
    errorClass: "terminal",
    source: `${API}; ${CLS}`,
    messageRule: { pattern: /current (status|state)/i, errorClass: "waitForState", otherwise: "terminal" },
    note: 'by message: "current status" → waitForState; security-group instance limit or disabled image → terminal',
  },

  // ---- not found -------------------------------------------------------------------------------
  {
    match: { exact: "InvalidInstanceId.NotFound" },
    errorClass: "notFound",
    source: `${API}; ${COMMON}; ${CLS}`,
    note: "DescribeInstances reports a missing instance by leaving it out, which getInstance maps to null",
  },

  // ---- locked ----------------------------------------------------------------------------------
  {
    match: { exact: "InstanceLockedForSecurity" },
    errorClass: "locked",
    source: `${API}; ${CLS}`,
    note: "also: a non-empty OperationLocks in DescribeInstances (reported on ObservedInstance.operationLocks)",
  },

  // ---- auth ------------------------------------------------------------------------------------
  {
    match: { prefix: "InvalidAccessKeyId" },
    errorClass: "auth",
    source: `${COMMON}; ${CLS}`,
    note: "InvalidAccessKeyId.NotFound, InvalidAccessKeyId.Inactive",
  },
  { match: { exact: "SignatureDoesNotMatch" }, errorClass: "auth", source: `${COMMON}; ${SIG}` },
  { match: { exact: "IncompleteSignature" }, errorClass: "auth", source: `${COMMON}; ${SIG}` },
  { match: { exact: "IllegalTimestamp" }, errorClass: "auth", source: COMMON, note: "signing problem (clock skew); fix the clock, not the spec" },
  {
    match: { prefix: "Forbidden" },
    errorClass: "auth",
    source: `${COMMON}; ${CLS}`,
    note: "Forbidden.RAM, Forbidden.Unauthorized, Forbidden.AccessKeyDisabled, Forbidden.RiskControl",
  },
  { match: { exact: "InvalidUser.Unauthorized" }, errorClass: "auth", source: API },
  { match: { prefix: "InvalidSecurityToken" }, errorClass: "auth", source: STS, note: "InvalidSecurityToken.Expired / .Malformed / .MismatchWithAccessKey" },
  { match: { exact: "InvalidCredentials" }, errorClass: "auth", source: `${SDK}: thrown when the client has no credential` },
  { match: { exact: SyntheticCode.CredentialsUnavailable }, errorClass: "auth", source: `@alicloud/credentials default chain; ${OURS}` },

  // ---- terminal (explicit, for documentation; the default is terminal anyway) -----------------
  { match: { suffix: ".Malformed" }, errorClass: "terminal", source: `${API}; ${CLS}` },
  {
    match: { prefix: "InvalidParameter" },
    errorClass: "terminal",
    source: `${API}; ${CLS}`,
    note: "InvalidParameter, InvalidParameter.*, InvalidParameterAuthorized.*",
  },
  { match: { prefix: "InvalidUserData." }, errorClass: "terminal", source: `${API}; ${CLS}` },
  { match: { prefix: "InvalidInstanceType." }, errorClass: "terminal", source: `${API}; ${CLS}` },
  { match: { exact: "InvalidSecurityGroupId.NotFound" }, errorClass: "terminal", source: `${API}; ${CLS}`, note: "a 404 that is a spec error" },
  { match: { exact: "InvalidRegionId.NotFound" }, errorClass: "terminal", source: COMMON },
  { match: { exact: "InvalidAction" }, errorClass: "terminal", source: COMMON },
  { match: { exact: "MissingParameter" }, errorClass: "terminal", source: COMMON },
  { match: { exact: "UnsupportedParameter" }, errorClass: "terminal", source: COMMON },
  { match: { exact: "IdempotentParameterMismatch" }, errorClass: "terminal", source: COMMON },
  { match: { exact: "RealNameAuthenticationError" }, errorClass: "terminal", source: COMMON },
  {
    match: { exact: "InvalidChargeType.ValueNotSupported" },
    errorClass: "terminal",
    source: `${API}; ${CLS}`,
    note: "TF retries it without a stated reason; treated as terminal",
  },
  { match: { exact: SyntheticCode.Unexpected }, errorClass: "terminal", source: OURS },
];

function ruleMatches(rule: ClassificationRule, code: string): boolean {
  const m = rule.match;
  if ("exact" in m) return code === m.exact;
  if ("prefix" in m) return code.startsWith(m.prefix);
  if ("suffix" in m) return code.endsWith(m.suffix);
  return code.includes(m.contains);
}

const EXACT = new Map<string, ClassificationRule>();
const PATTERNS: ClassificationRule[] = [];
for (const rule of CLASSIFICATION_RULES) {
  if ("exact" in rule.match) EXACT.set(rule.match.exact, rule);
  else PATTERNS.push(rule);
}

/** Finds the rule for a code (exact first, then patterns in table order), or undefined. */
function findRule(code: string): ClassificationRule | undefined {
  return EXACT.get(code) ?? PATTERNS.find((r) => ruleMatches(r, code));
}

/**
 * Classifies an ECS error code. `httpStatus` is used only when the table has no rule:
 * any 5xx is transient, anything else terminal.
 */
export function classifyCode(code: string, httpStatus?: number, message?: string): ErrorClass {
  const rule = findRule(code);
  if (rule) {
    if (rule.messageRule) {
      return rule.messageRule.pattern.test(message ?? "") ? rule.messageRule.errorClass : rule.messageRule.otherwise;
    }
    return rule.errorClass;
  }
  if (httpStatus !== undefined && httpStatus >= 500 && httpStatus <= 599) return "transient";
  return "terminal";
}

export interface EcsErrorInit {
  code: string;
  message: string;
  action: string;
  httpStatus?: number | undefined;
  requestId?: string | undefined;
  retryAfterMs?: number | undefined;
  errorClass?: ErrorClass | undefined;
}

/** A failed ECS call, safe to log and to put (code + message) into status. */
export class EcsError extends Error {
  override readonly name = "EcsError";
  /** Raw ECS code, e.g. `InvalidHostName.Malformed`, or one of `SyntheticCode`. */
  readonly code: string;
  /** ECS action that failed, e.g. `ModifyInstanceAttribute`. */
  readonly action: string;
  readonly httpStatus: number | undefined;
  /** For Events and logs only; never put it into conditions (it changes every call). */
  readonly requestId: string | undefined;
  /**
   * Earliest time (ms from when the error was made) worth retrying: the server's
   * `x-acs-retry-after`, or, for throttling without that header, the time until the client-side
   * bucket reopens (the next minute window).
   */
  readonly retryAfterMs: number | undefined;
  readonly errorClass: ErrorClass;

  constructor(init: EcsErrorInit) {
    super(init.message);
    this.code = init.code;
    this.action = init.action;
    this.httpStatus = init.httpStatus;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
    this.errorClass = init.errorClass ?? classifyCode(init.code, init.httpStatus, init.message);
  }

  /** Transient or waitForState. */
  get retryable(): boolean {
    return isRetryableClass(this.errorClass);
  }

  /**
   * The endpoint could not be reached at all (refused, reset, unresolvable, connect timeout): no ECS
   * answer, so the endpoint's circuit breaker counts it (see breaker.ts). A read timeout is not one:
   * the endpoint accepted the connection.
   */
  get connectionFailure(): boolean {
    return this.code === SyntheticCode.Network || (this.code === SyntheticCode.Timeout && this.message.startsWith("connect "));
  }

  get throttled(): boolean {
    return this.code.includes("Throttling");
  }

  /** A copy with another retry-after (used when the limiter knows when the bucket reopens). */
  withRetryAfter(ms: number | undefined): EcsError {
    return new EcsError({
      code: this.code,
      message: this.message,
      action: this.action,
      httpStatus: this.httpStatus,
      requestId: this.requestId,
      retryAfterMs: ms,
      errorClass: this.errorClass,
    });
  }

  /** A plain object for structured logs (no secrets by construction). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      action: this.action,
      message: this.message,
      httpStatus: this.httpStatus,
      requestId: this.requestId,
      retryAfterMs: this.retryAfterMs,
      errorClass: this.errorClass,
    };
  }
}

// ---- scrubbing -----------------------------------------------------------------------------

const MAX_MESSAGE = 512;
const MASK = "***";

/**
 * Parameter names whose values are secret. If an upstream message echoes a request URL or
 * parameter list (`...&Password=xyz&...`, `"UserData":"..."`), the value is masked.
 */
const SECRET_PARAM =
  /((?:Password|UserData|AccessKeySecret|SecurityToken|Signature|RemoteConnectionOptions\.Password|x-acs-security-token|authorization)["']?\s*[=:]\s*["']?)([^&\s"',}]+)/gi;

/**
 * Removes secret values from a text: every literal in `secrets` (and its URL-encoded form) and the
 * values of secret-named parameters. Also drops any echoed request URL query string, trims to a
 * bounded length.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s), rfc3986(s)])) {
      out = out.split(form).join(MASK);
    }
  }
  // A URL with a query string (the SDK's transport errors embed "POST http://host/?A=..&B=.. failed").
  out = out.replace(/(https?:\/\/[^\s?]*)\?[^\s]*/gi, "$1?" + MASK);
  out = out.replace(SECRET_PARAM, (_m, name: string) => `${name}${MASK}`);
  if (out.length > MAX_MESSAGE) out = out.slice(0, MAX_MESSAGE - 1) + "…";
  return out;
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

// ---- conversion from whatever the SDK throws ---------------------------------------------------

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  requestId?: unknown;
  retryAfter?: unknown;
  data?: unknown;
  message?: unknown;
}

const NETWORK_ERRNOS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" && v !== "undefined" && v !== "null" ? v : undefined;
}

/**
 * Turns anything the SDK (or the credentials provider) throws into an `EcsError`.
 * `secrets` are literal values that must not survive into the message (password, user data,
 * access key secret, STS token).
 */
export function toEcsError(err: unknown, action: string, secrets: readonly (string | undefined)[] = []): EcsError {
  if (err instanceof EcsError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkErrorShape;
  const name = typeof e.name === "string" ? e.name : "";
  const data = typeof e.data === "object" && e.data !== null ? (e.data as Record<string, unknown>) : undefined;
  const statusCode = typeof e.statusCode === "number" ? e.statusCode : undefined;
  const code = str(e.code);
  const msg = typeof e.message === "string" ? e.message : "";

  // An ECS answer: the SDK's ClientError / ServerError / ThrottlingError carry statusCode and data.
  // A JSON error body without a Code (a proxy's JSON error page) gets `HttpError<status>` and is
  // classified by the status fallback (5xx transient).
  if (statusCode !== undefined && (code !== undefined || statusCode >= 400)) {
    const codeOrStatus = code ?? `HttpError${statusCode}`;
    const rawMessage = str(data?.["Message"]) ?? str(data?.["message"]) ?? stripSdkDecoration(str(e.message) ?? "");
    const retryAfter = typeof e.retryAfter === "number" && Number.isFinite(e.retryAfter) && e.retryAfter >= 0 ? e.retryAfter : undefined;
    const message = scrubSecrets(rawMessage || codeOrStatus, secrets);
    return new EcsError({
      code: codeOrStatus,
      message,
      action,
      httpStatus: statusCode,
      requestId: str(e.requestId) ?? str(data?.["RequestId"]),
      retryAfterMs: retryAfter,
    });
  }

  // A non-JSON answer (HTML 502 page from a gateway): JSON.parse threw.
  if (err instanceof SyntaxError || name === "SyntaxError") {
    return new EcsError({
      code: SyntheticCode.InvalidResponse,
      message: "the endpoint answered with a non-JSON body (for example a gateway error page)",
      action,
    });
  }

  if (name === "RequestTimeoutError" || code === "ETIMEDOUT" || code === "ESOCKETTIMEDOUT" || /timeout/i.test(name)) {
    const kind = /ConnectTimeout/i.test(msg) ? "connect" : /ReadTimeout/i.test(msg) ? "read" : "request";
    return new EcsError({ code: SyntheticCode.Timeout, message: `${kind} timeout talking to the ECS endpoint`, action });
  }

  if (code !== undefined && NETWORK_ERRNOS.has(code)) {
    return new EcsError({ code: SyntheticCode.Network, message: `network error ${code} talking to the ECS endpoint`, action });
  }
  if (code === "InvalidCredentials") {
    return new EcsError({ code, message: "no credentials configured for the ECS client", action });
  }
  if (/credential/i.test(msg) || /Credential/.test(name)) {
    return new EcsError({
      code: SyntheticCode.CredentialsUnavailable,
      message: scrubSecrets(`could not obtain credentials: ${msg || name}`, secrets),
      action,
    });
  }
  if (name === "AbortError") {
    // Not an ECS failure; callers rethrow aborts as they are. Kept terminal so nothing retries it.
    return new EcsError({ code: "Aborted", message: "the operation was aborted", action, errorClass: "terminal" });
  }
  return new EcsError({
    code: SyntheticCode.Unexpected,
    message: scrubSecrets(`${name || "Error"}: ${msg || String(err)}`, secrets),
    action,
  });
}

/** The SDK's message reads "<Code>: code: 403, <Message> request id: <id>"; keep only <Message>. */
function stripSdkDecoration(msg: string): string {
  const m = msg.replace(/^(?:\S+: )?code: \d+, /, "").replace(/ request id: \S*$/, "");
  return m === "undefined" ? "" : m;
}
