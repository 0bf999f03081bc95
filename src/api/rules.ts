/**
 * The value rules of EcsInstanceAttributes, each defined once.
 *
 * A rule has a predicate (`test`, used by the zod refinements in spec.ts and by the controller's own
 * checks) and, when the API server can enforce it, a CEL rendering (`cel`, emitted into the CRD as an
 * `x-kubernetes-validations` entry). Lengths and simple ID shapes are not rules here: they are zod
 * `.min()/.max()/.regex()` calls that become `minLength`/`maxLength`/`pattern` in the CRD directly.
 *
 * Regexes used in both renderings stick to the subset JavaScript and Go's RE2 agree on: no lookaround,
 * no backreferences, no `\u` escapes (non-ASCII characters are written literally).
 *
 * Sources: the ModifyInstanceAttribute parameter rules (docs/api.md and docs/emulator.md cite them), Kubernetes object-name and
 * data-key rules (apimachinery validation IsDNS1123Subdomain / IsConfigMapKey).
 */
import { MAX_USER_DATA_BASE64_LENGTH, MAX_USER_DATA_BYTES } from "./constants.js";

/** An `x-kubernetes-validations` entry. */
export interface CelValidation {
  rule: string;
  message: string;
}

/** One value rule, with its two renderings. */
export interface ValueRule<T> {
  /** Stable identifier, used in tests and docs. */
  readonly id: string;
  /** What the value must satisfy, phrased to follow the field name ("must …"). Never contains the value. */
  readonly message: string;
  /** The predicate: true when the value is acceptable. */
  readonly test: (value: T) => boolean;
  /** CEL expression over `self`, when the API server enforces the rule at admission. */
  readonly cel?: string;
  /** For rules the API server enforces without CEL (e.g. `x-kubernetes-list-type: set`): how. */
  readonly admissionVia?: string;
  /** For rules enforced only by the controller: why admission cannot enforce them (shown in docs/api.md). */
  readonly controllerOnlyBecause?: string;
}

function rule<T>(r: ValueRule<T>): ValueRule<T> {
  return Object.freeze(r);
}

/** Renders a CEL string literal (single-quoted) for a pattern or prefix. */
function celString(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** Builds a rule from a regex source that JS and RE2 both accept. */
function patternRule(id: string, source: string, message: string): ValueRule<string> {
  const re = new RegExp(source, "u");
  return rule({ id, message, test: (v) => re.test(v), cel: `self.matches(${celString(source)})` });
}

function notPrefixRule(id: string, prefixes: readonly string[], message: string): ValueRule<string> {
  return rule({
    id,
    message,
    test: (v) => !prefixes.some((p) => v.startsWith(p)),
    cel: prefixes.map((p) => `!self.startsWith(${celString(p)})`).join(" && "),
  });
}

// ---------------------------------------------------------------------------------------------
// Character classes shared by the rules.

/** CJK Unified Ideographs (U+4E00–U+9FFF) and Extension A (U+3400–U+4DBF), as literal characters. */
export const HAN_CLASS = `${String.fromCodePoint(0x3400)}-${String.fromCodePoint(0x4dbf)}${String.fromCodePoint(0x4e00)}-${String.fromCodePoint(0x9fff)}`;

// ---------------------------------------------------------------------------------------------
// IDs and names (rendered as JSON Schema `pattern`, see spec.ts)

/** ECS instance IDs: `i-` then lower-case letters and digits (e.g. `i-bp67acfmxazb4ph00001`). */
export const INSTANCE_ID_PATTERN = "^i-[a-z0-9]+$";
export const INSTANCE_ID_MAX_LENGTH = 64;
/** Region IDs such as `cn-hangzhou`, `ap-southeast-1`, `cn-shanghai-finance-1`. */
export const REGION_ID_PATTERN = "^[a-z]{2,}(-[a-z0-9]+)+$";
export const REGION_ID_MAX_LENGTH = 64;
/** Security group IDs: `sg-` then lower-case letters and digits (e.g. `sg-bp15ed6xe1yxeycg7o01`). */
export const SECURITY_GROUP_ID_PATTERN = "^sg-[a-z0-9]+$";
export const SECURITY_GROUP_ID_MAX_LENGTH = 64;

/** Kubernetes object names (DNS-1123 subdomain): Secrets and ConfigMaps referenced by the spec. */
export const DNS_SUBDOMAIN_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
export const DNS_SUBDOMAIN_MAX_LENGTH = 253;
/** Secret / ConfigMap data keys. */
export const DATA_KEY_PATTERN = "^[-._a-zA-Z0-9]+$";
export const DATA_KEY_MAX_LENGTH = 253;

export const dataKeyNotDots = rule<string>({
  id: "dataKey.notDots",
  message: "must not be '.' or '..' and must not start with '..'",
  test: (v) => v !== "." && v !== ".." && !v.startsWith(".."),
  cel: "self != '.' && self != '..' && !self.startsWith('..')",
});

// ---------------------------------------------------------------------------------------------
// InstanceName: 2–128 characters, starts with a letter or a Chinese character, not http(s)://,
// letters, digits, Chinese characters, ':', '_', '-', '.'. The newest API metadata (the SDK model of
// ModifyInstanceAttribute) lists no '.', the 2021 error text allows it: the sources disagree, so
// admission keeps '.' (never block a name ECS may take) and a server rejection ends as
// InvalidInstanceName.Malformed in status. Sources: docs/emulator.md "Rules and their sources".

export const INSTANCE_NAME_MIN_LENGTH = 2;
export const INSTANCE_NAME_MAX_LENGTH = 128;

export const instanceNameStart = patternRule("instanceName.start", `^[A-Za-z${HAN_CLASS}]`, "must start with a letter or a Chinese character");
export const instanceNameCharset = patternRule(
  "instanceName.charset",
  `^[A-Za-z0-9${HAN_CLASS}:_.-]*$`,
  "may contain only letters, digits, Chinese characters, ':', '_', '-' and '.'",
);
export const instanceNameNoUrl = notPrefixRule("instanceName.noUrl", ["http://", "https://"], "must not start with http:// or https://");
export const INSTANCE_NAME_RULES = [instanceNameStart, instanceNameCharset, instanceNameNoUrl] as const;

// ---------------------------------------------------------------------------------------------
// Description: 2–256 characters, not http(s)://.

export const DESCRIPTION_MIN_LENGTH = 2;
export const DESCRIPTION_MAX_LENGTH = 256;
export const descriptionNoUrl = notPrefixRule("description.noUrl", ["http://", "https://"], "must not start with http:// or https://");
export const DESCRIPTION_RULES = [descriptionNoUrl] as const;

// ---------------------------------------------------------------------------------------------
// HostName. Linux and other non-Windows OSes (admission): 2–64 characters; '.' separates segments of
// letters, digits and '-'; no '..' or '--'; no leading or trailing '.' or '-'.
// Windows (controller, once the OS type is known): 2–15 characters of letters, digits and '-';
// no leading/trailing '-', no '--', not all digits.

export const HOST_NAME_MIN_LENGTH = 2;
export const HOST_NAME_MAX_LENGTH = 64;
export const WINDOWS_HOST_NAME_MAX_LENGTH = 15;

export const hostNameCharset = patternRule("hostName.charset", "^[A-Za-z0-9.-]*$", "may contain only letters, digits, '.' and '-'");
export const hostNameNoDoubleSeparator = rule<string>({
  id: "hostName.noDoubleSeparator",
  message: "must not contain '..' or '--'",
  test: (v) => !v.includes("..") && !v.includes("--"),
  cel: "!self.contains('..') && !self.contains('--')",
});
export const hostNameEdges = rule<string>({
  id: "hostName.edges",
  message: "must not start or end with '.' or '-'",
  test: (v) => !/^[.-]/.test(v) && !/[.-]$/.test(v),
  cel: "!self.startsWith('.') && !self.startsWith('-') && !self.endsWith('.') && !self.endsWith('-')",
});
export const HOST_NAME_RULES = [hostNameCharset, hostNameNoDoubleSeparator, hostNameEdges] as const;

const WINDOWS_WHY = "the Windows rules depend on the instance's OS type, which only ECS knows";
export const windowsHostNameLength = rule<string>({
  id: "hostName.windows.length",
  message: `must be at most ${WINDOWS_HOST_NAME_MAX_LENGTH} characters on Windows`,
  test: (v) => v.length <= WINDOWS_HOST_NAME_MAX_LENGTH,
  controllerOnlyBecause: WINDOWS_WHY,
});
export const windowsHostNameCharset = rule<string>({
  id: "hostName.windows.charset",
  message: "may contain only letters, digits and '-' on Windows (no '.')",
  test: (v) => /^[A-Za-z0-9-]*$/.test(v),
  controllerOnlyBecause: WINDOWS_WHY,
});
export const windowsHostNameNotAllDigits = rule<string>({
  id: "hostName.windows.notAllDigits",
  message: "must not consist of digits only on Windows",
  test: (v) => !/^[0-9]+$/.test(v),
  controllerOnlyBecause: WINDOWS_WHY,
});
/** Extra rules for Windows on top of HOST_NAME_RULES and the 2-character minimum. */
export const WINDOWS_HOST_NAME_RULES = [windowsHostNameLength, windowsHostNameCharset, windowsHostNameNotAllDigits] as const;

// ---------------------------------------------------------------------------------------------
// Password (value read from a Secret, so only the controller can see it): 8–30 characters, at least
// three of upper case, lower case, digits and specials; only those characters; on Windows not
// starting with '/'.

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 30;
/**
 * Accepted special characters: the union of the official lists. The backtick is in the SDK model and
 * in the 2024 and zh API pages (the current English page lost it, a rendering slip); the SDK model
 * has `"` where the pages have `'`. Where sources disagree we accept both (the server has the final
 * word) rather than reject a password ECS may take. Sources: docs/emulator.md "Rules and their sources".
 */
export const PASSWORD_SPECIALS = "()`~!@#$%^&*-_+=|{}[]:;'\"<>,.?/";
const PASSWORD_WHY = "the password lives in a Secret; the API server never sees it when admitting the resource";

const isUpper = (c: string) => c >= "A" && c <= "Z";
const isLower = (c: string) => c >= "a" && c <= "z";
const isDigit = (c: string) => c >= "0" && c <= "9";
const isSpecial = (c: string) => PASSWORD_SPECIALS.includes(c);

export const passwordLength = rule<string>({
  id: "password.length",
  message: `must be ${PASSWORD_MIN_LENGTH}-${PASSWORD_MAX_LENGTH} characters long`,
  test: (v) => [...v].length >= PASSWORD_MIN_LENGTH && [...v].length <= PASSWORD_MAX_LENGTH,
  controllerOnlyBecause: PASSWORD_WHY,
});
export const passwordCharset = rule<string>({
  id: "password.charset",
  message: `may contain only letters, digits and the specials ${PASSWORD_SPECIALS}`,
  test: (v) => [...v].every((c) => isUpper(c) || isLower(c) || isDigit(c) || isSpecial(c)),
  controllerOnlyBecause: PASSWORD_WHY,
});
export const passwordComplexity = rule<string>({
  id: "password.complexity",
  message: "must contain at least three of: upper-case letters, lower-case letters, digits, special characters",
  test: (v) => {
    const chars = [...v];
    return [isUpper, isLower, isDigit, isSpecial].filter((cls) => chars.some(cls)).length >= 3;
  },
  controllerOnlyBecause: PASSWORD_WHY,
});
export const PASSWORD_RULES = [passwordLength, passwordCharset, passwordComplexity] as const;
export const windowsPasswordNoLeadingSlash = rule<string>({
  id: "password.windows.noLeadingSlash",
  message: "must not start with '/' on Windows",
  test: (v) => !v.startsWith("/"),
  controllerOnlyBecause: `${PASSWORD_WHY}; the rule also depends on the OS type`,
});

// ---------------------------------------------------------------------------------------------
// User data: Base64, at most MAX_USER_DATA_BYTES once decoded.

/** Standard padded Base64 (RFC 4648 §4), no whitespace. */
export const BASE64_PATTERN = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$";
export { MAX_USER_DATA_BASE64_LENGTH };

/** Decoded size of a string that matches BASE64_PATTERN. */
export function base64DecodedLength(b64: string): number {
  const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return (b64.length / 4) * 3 - pad;
}

const base64Re = new RegExp(BASE64_PATTERN);
export const userDataBase64 = rule<string>({
  id: "userData.base64",
  message: "must be standard padded Base64 without whitespace",
  test: (v) => base64Re.test(v),
  // A JSON Schema pattern, not CEL: `matches()` on a 43 KB string would blow the CEL cost budget.
  admissionVia: "JSON Schema pattern",
});
export const userDataSize = rule<string>({
  id: "userData.size",
  message: `must decode to at most ${MAX_USER_DATA_BYTES} bytes`,
  test: (v) => base64DecodedLength(v) <= MAX_USER_DATA_BYTES,
  // Valid only once BASE64_PATTERN holds (length a multiple of 4); both rules run at admission.
  cel: `size(self) / 4 * 3 - (self.endsWith('==') ? 2 : (self.endsWith('=') ? 1 : 0)) <= ${MAX_USER_DATA_BYTES}`,
});
export const INLINE_USER_DATA_RULES = [userDataSize] as const;

/** Size check for user data read from a Secret or ConfigMap (raw bytes, before the controller encodes it). */
export const userDataRawSize = rule<Uint8Array | string>({
  id: "userData.rawSize",
  message: `must be at most ${MAX_USER_DATA_BYTES} bytes before Base64 encoding`,
  test: (v) => (typeof v === "string" ? Buffer.byteLength(v, "utf8") : v.byteLength) <= MAX_USER_DATA_BYTES,
  controllerOnlyBecause: "the data lives in a Secret or ConfigMap the API server does not read at admission",
});

export const userDataExactlyOneSource = rule<{ secretRef?: unknown; configMapRef?: unknown; inlineBase64?: unknown }>({
  id: "userData.exactlyOneSource",
  message: "must set exactly one of secretRef, configMapRef, inlineBase64",
  test: (v) => [v.secretRef, v.configMapRef, v.inlineBase64].filter((x) => x !== undefined).length === 1,
  cel: "(has(self.secretRef) ? 1 : 0) + (has(self.configMapRef) ? 1 : 0) + (has(self.inlineBase64) ? 1 : 0) == 1",
});

// ---------------------------------------------------------------------------------------------
// Numbers, lists and cross-field rules.

export const securityGroupIdsUnique = rule<readonly string[]>({
  id: "securityGroupIds.unique",
  message: "must not contain duplicates",
  test: (v) => new Set(v).size === v.length,
  admissionVia: "x-kubernetes-list-type: set (the API server rejects duplicate entries)",
});

export const queueNumberValue = rule<number>({
  id: "networkInterfaceQueueNumber.value",
  message: "must be -1 (restore the instance type's default) or a positive integer",
  test: (v) => v === -1 || v > 0,
  cel: "self == -1 || self > 0",
});

/** Immutability of instanceId / regionId: a transition rule, so zod (which sees one object) cannot check it. */
export const immutable = rule<unknown>({
  id: "immutable",
  message: "is immutable",
  test: () => true,
  cel: "self == oldSelf",
});

export const windowsHostnameTypeCustom = rule<string>({
  id: "privateDnsNameOptions.hostnameType.windows",
  message: "must be Custom on Windows",
  test: (v) => v === "Custom",
  controllerOnlyBecause: "depends on the instance's OS type, which only ECS knows",
});

// ---------------------------------------------------------------------------------------------
// OS-dependent checks the controller runs once it has read the instance.

/** The OS type values DescribeInstances reports (`OSType`). */
export type OsType = "linux" | "windows" | (string & {});

/** Messages of the rules `value` breaks; empty when fine. */
export function failedRules<T>(value: T, rules: readonly ValueRule<T>[]): string[] {
  return rules.filter((r) => !r.test(value)).map((r) => r.message);
}

/**
 * Problems with a desired host name for the given OS type, e.g. `["hostName must be at most 15
 * characters on Windows"]`. The Linux rules are also enforced at admission; repeating them here makes
 * the function usable on its own.
 */
export function hostNameProblems(hostName: string, osType: OsType | undefined): string[] {
  const out = [
    ...(hostName.length < HOST_NAME_MIN_LENGTH || hostName.length > HOST_NAME_MAX_LENGTH
      ? [`must be ${HOST_NAME_MIN_LENGTH}-${HOST_NAME_MAX_LENGTH} characters long`]
      : []),
    ...failedRules(hostName, HOST_NAME_RULES),
  ];
  if (osType?.toLowerCase() === "windows") out.push(...failedRules(hostName, WINDOWS_HOST_NAME_RULES));
  return out.map((m) => `hostName ${m}`);
}

/**
 * Problems with a password for the given OS type. Messages describe the rule only; the value never
 * appears in them (safe for status and logs).
 */
export function passwordProblems(password: string, osType: OsType | undefined): string[] {
  const out = failedRules(password, PASSWORD_RULES);
  if (osType?.toLowerCase() === "windows") out.push(...failedRules(password, [windowsPasswordNoLeadingSlash]));
  return out.map((m) => `password ${m}`);
}

/** Problems with privateDnsNameOptions.hostnameType for the given OS type. */
export function hostnameTypeProblems(hostnameType: string, osType: OsType | undefined): string[] {
  if (osType?.toLowerCase() !== "windows") return [];
  return failedRules(hostnameType, [windowsHostnameTypeCustom]).map((m) => `privateDnsNameOptions.hostnameType ${m}`);
}
