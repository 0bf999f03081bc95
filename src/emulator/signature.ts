/**
 * Request signature verification: V3 `ACS3-HMAC-SHA256` (the SDK default) and V1 `HMAC-SHA1` (RPC
 * canonical query, SDK `signatureAlgorithm: 'v2'`). The pure functions here are also what the
 * unit tests check against the reference test vectors.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { ecsError } from "./errors.js";

/** RFC 3986 encoding: A–Z a–z 0–9 - _ . ~ kept, everything else %XX (upper hex). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export type ParamPairs = ReadonlyArray<readonly [string, string]>;

/** Sorted `enc(name)=enc(value)` pairs joined by `&` (sorting on the encoded name, then value). */
export function canonicalQuery(pairs: ParamPairs): string {
  return pairs
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export const EMPTY_SHA256 = sha256Hex("");

export interface V3CanonicalInput {
  method: string;
  path: string;
  query: ParamPairs;
  /** Lower-case header name → value. */
  headers: Readonly<Record<string, string | undefined>>;
  signedHeaders: readonly string[];
  hashedPayload: string;
}

export function v3CanonicalRequest(input: V3CanonicalInput): string {
  const names = [...input.signedHeaders].map((h) => h.toLowerCase()).sort();
  const canonHeaders = names.map((n) => `${n}:${(input.headers[n] ?? "").trim()}\n`).join("");
  return [input.method.toUpperCase(), input.path || "/", canonicalQuery(input.query), canonHeaders, names.join(";"), input.hashedPayload].join("\n");
}

export function v3StringToSign(canonicalRequest: string): string {
  return `ACS3-HMAC-SHA256\n${sha256Hex(canonicalRequest)}`;
}

export function v3Signature(secret: string, canonicalRequest: string): string {
  return createHmac("sha256", secret).update(v3StringToSign(canonicalRequest)).digest("hex");
}

export function v1StringToSign(method: string, params: ParamPairs): string {
  const withoutSig = params.filter(([k]) => k !== "Signature");
  return `${method.toUpperCase()}&${percentEncode("/")}&${percentEncode(canonicalQuery(withoutSig))}`;
}

export function v1Signature(secret: string, stringToSign: string): string {
  return createHmac("sha1", `${secret}&`).update(stringToSign).digest("base64");
}

export interface AuthorizationHeader {
  algorithm: string;
  credential: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=a;b,Signature=…`; undefined if malformed. */
export function parseAuthorization(value: string): AuthorizationHeader | undefined {
  const m = /^(\S+)\s+(.*)$/.exec(value.trim());
  if (!m) return undefined;
  const fields = new Map<string, string>();
  for (const part of m[2]!.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return undefined;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) return undefined;
  return { algorithm: m[1]!, credential, signedHeaders: signedHeaders.split(";").filter(Boolean), signature };
}

export interface AccessKey {
  accessKeyId: string;
  accessKeySecret: string;
  /** When set, the key is an STS key: requests must carry this token. */
  securityToken?: string;
  /** Optional expiry of an STS key (ISO time or epoch ms). */
  expiration?: string | number;
}

export interface SignedRequest {
  method: string;
  path: string;
  query: ParamPairs;
  /** Form body parameters (already decoded). */
  form: ParamPairs;
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

/** Longest key ID the call log keeps (real IDs are ~24 characters; this bounds a garbage header). */
const MAX_PRESENTED_KEY_ID = 128;

/**
 * The AccessKeyId a request claims (V3 `Credential=`, else the V1 `AccessKeyId` parameter), whether or
 * not it verifies; "" when none. Lets the call log name the key of a rejected call. Key IDs are not
 * secrets (the secret never travels), but the value is capped since it is unauthenticated input.
 */
export function presentedAccessKeyId(req: Pick<SignedRequest, "headers" | "query" | "form">): string {
  const auth = req.headers["authorization"];
  const id = auth !== undefined ? parseAuthorization(auth)?.credential : [...req.query, ...req.form].find(([k]) => k === "AccessKeyId")?.[1];
  return (id ?? "").slice(0, MAX_PRESENTED_KEY_ID);
}

export interface VerifiedCaller {
  accessKeyId: string;
  signatureVersion: "v3" | "v1";
  sts: boolean;
}

export interface VerifierOptions {
  keys: readonly AccessKey[];
  /** Keys held elsewhere (the RAM users and STS sessions of src/emulator/iam.ts), asked after `keys`. */
  lookup?: (accessKeyId: string) => (AccessKey & { disabled?: boolean }) | undefined;
  /** Allowed clock skew for x-acs-date / Timestamp, ms. Default 15 minutes. */
  maxSkewMs?: number;
  now?: () => number;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Remembered nonces (≈ 100 bytes each); at 1000 calls/s this covers the last 100 s. */
const MAX_NONCES = 100_000;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Verifies V3 and V1 signatures against a key table, with nonce replay and timestamp checks. */
export class SignatureVerifier {
  private readonly keys = new Map<string, AccessKey>();
  private readonly nonces = new Map<string, number>();
  private readonly maxSkewMs: number;
  private readonly now: () => number;
  private readonly lookup: VerifierOptions["lookup"];
  private lastPrune = 0;

  constructor(options: VerifierOptions) {
    for (const k of options.keys) this.keys.set(k.accessKeyId, k);
    this.lookup = options.lookup;
    this.maxSkewMs = options.maxSkewMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  setKeys(keys: readonly AccessKey[]): void {
    this.keys.clear();
    for (const k of keys) this.keys.set(k.accessKeyId, k);
  }

  listKeyIds(): string[] {
    return [...this.keys.keys()];
  }

  resetNonces(): void {
    this.nonces.clear();
  }

  verify(req: SignedRequest): VerifiedCaller {
    const auth = req.headers["authorization"];
    return auth !== undefined ? this.verifyV3(req, auth) : this.verifyV1(req);
  }

  private verifyV3(req: SignedRequest, authValue: string): VerifiedCaller {
    const auth = parseAuthorization(authValue);
    if (!auth || auth.algorithm !== "ACS3-HMAC-SHA256") {
      throw ecsError("IncompleteSignature");
    }
    const signed = auth.signedHeaders.map((h) => h.toLowerCase());
    for (const required of ["host", "x-acs-date", "x-acs-signature-nonce"]) {
      if (!signed.includes(required)) throw ecsError("IncompleteSignature");
    }
    const token = req.headers["x-acs-security-token"];
    if (token !== undefined && !signed.includes("x-acs-security-token")) throw ecsError("IncompleteSignature");
    const key = this.lookupKey(auth.credential, token);

    const hashedPayload = req.headers["x-acs-content-sha256"] ?? sha256Hex(req.body);
    if (hashedPayload !== sha256Hex(req.body)) throw ecsError("SignatureDoesNotMatch");

    const canonical = v3CanonicalRequest({
      method: req.method,
      path: req.path,
      query: req.query,
      headers: req.headers,
      signedHeaders: signed,
      hashedPayload,
    });
    const expected = v3Signature(key.accessKeySecret, canonical);
    if (!safeEqual(expected, auth.signature.toLowerCase())) throw ecsError("SignatureDoesNotMatch");
    this.checkTimestamp(req.headers["x-acs-date"]);
    this.checkNonce(key.accessKeyId, req.headers["x-acs-signature-nonce"]);
    return { accessKeyId: key.accessKeyId, signatureVersion: "v3", sts: key.securityToken !== undefined };
  }

  private verifyV1(req: SignedRequest): VerifiedCaller {
    const all: Array<[string, string]> = [...req.query, ...req.form].map(([k, v]) => [k, v]);
    const get = (name: string): string | undefined => all.find(([k]) => k === name)?.[1];
    const signature = get("Signature");
    const accessKeyId = get("AccessKeyId");
    if (signature === undefined || accessKeyId === undefined) throw ecsError("IncompleteSignature");
    const method = get("SignatureMethod");
    if (method !== undefined && method !== "HMAC-SHA1") throw ecsError("IncompleteSignature");
    const key = this.lookupKey(accessKeyId, get("SecurityToken"));
    const expected = v1Signature(key.accessKeySecret, v1StringToSign(req.method, all));
    if (!safeEqual(expected, signature)) throw ecsError("SignatureDoesNotMatch");
    this.checkTimestamp(get("Timestamp"));
    this.checkNonce(key.accessKeyId, get("SignatureNonce"));
    return { accessKeyId: key.accessKeyId, signatureVersion: "v1", sts: key.securityToken !== undefined };
  }

  private lookupKey(accessKeyId: string, token: string | undefined): AccessKey {
    const key: (AccessKey & { disabled?: boolean }) | undefined = this.keys.get(accessKeyId) ?? this.lookup?.(accessKeyId);
    if (!key) throw ecsError("InvalidAccessKeyId.NotFound");
    if (key.disabled) throw ecsError("InvalidAccessKeyId.Inactive");
    if ((key.securityToken ?? undefined) !== (token || undefined)) {
      throw ecsError("InvalidSecurityToken.MismatchWithAccessKey");
    }
    if (key.expiration !== undefined) {
      const exp = typeof key.expiration === "number" ? key.expiration : Date.parse(key.expiration);
      if (Number.isFinite(exp) && exp <= this.now()) throw ecsError("InvalidSecurityToken.Expired");
    }
    return key;
  }

  private checkTimestamp(value: string | undefined): void {
    if (value === undefined || !ISO_UTC.test(value)) throw ecsError("IllegalTimestamp");
    const t = Date.parse(value);
    if (!Number.isFinite(t) || Math.abs(this.now() - t) > this.maxSkewMs) throw ecsError("IllegalTimestamp");
  }

  private checkNonce(accessKeyId: string, nonce: string | undefined): void {
    if (!nonce) throw ecsError("IncompleteSignature");
    const now = this.now();
    if (now - this.lastPrune > 60_000) {
      for (const [n, exp] of this.nonces) if (exp <= now) this.nonces.delete(n);
      this.lastPrune = now;
    }
    const id = `${accessKeyId}\u0000${nonce}`;
    const exp = this.nonces.get(id);
    if (exp !== undefined && exp > now) throw ecsError("SignatureNonceUsed");
    this.nonces.set(id, now + this.maxSkewMs * 2);
    // Bounded memory under long benchmarks: forget the oldest nonces beyond the cap.
    if (this.nonces.size > MAX_NONCES) {
      const oldest = this.nonces.keys().next();
      if (!oldest.done) this.nonces.delete(oldest.value);
    }
  }
}
