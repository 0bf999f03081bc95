/**
 * RPC wire protocol: parameters from the query string and an `application/x-www-form-urlencoded`
 * body, flattened names (`SecurityGroupIds.1`, `CpuOptions.Core`, `Tag.1.Key`), JSON-array
 * parameters (`InstanceIds=["i-a","i-b"]`), and typed accessors that raise the ECS codes.
 */
import type { IncomingHttpHeaders } from "node:http";
import { ecsError } from "./errors.js";
import type { ParamPairs } from "./signature.js";

export interface ParsedRequest {
  method: string;
  path: string;
  query: Array<[string, string]>;
  form: Array<[string, string]>;
  headers: Record<string, string | undefined>;
  body: Buffer;
  params: Params;
  action: string | undefined;
}

function pairs(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of new URLSearchParams(text)) out.push([k, v]);
  return out;
}

export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(",") : v;
  return out;
}

export function parseRequest(method: string, rawUrl: string, headers: Record<string, string | undefined>, body: Buffer): ParsedRequest {
  const q = rawUrl.indexOf("?");
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? [] : pairs(rawUrl.slice(q + 1));
  const contentType = (headers["content-type"] ?? "").toLowerCase();
  const form = body.length > 0 && contentType.startsWith("application/x-www-form-urlencoded") ? pairs(body.toString("utf8")) : [];
  const params = new Params([...query, ...form]);
  const action = headers["x-acs-action"] ?? params.str("Action");
  return { method: method.toUpperCase(), path, query, form, headers, body, params, action };
}

/** Parameters that carry signature/protocol data, never business data. */
export const PROTOCOL_PARAMS = new Set([
  "Action",
  "Version",
  "Format",
  "AccessKeyId",
  "Signature",
  "SignatureMethod",
  "SignatureVersion",
  "SignatureNonce",
  "SignatureType",
  "Timestamp",
  "SecurityToken",
]);

/**
 * Object-typed parameters. The SDK flattens them (`PrivateDnsNameOptions.HostnameType=IpBased`); the
 * `aliyun` CLI sends the whole object as one JSON value (`PrivateDnsNameOptions={"HostnameType":"IpBased"}`).
 * Both reach the rules in the flattened form.
 */
export const STRUCT_PARAMS = new Set(["CpuOptions", "PrivateDnsNameOptions", "RemoteConnectionOptions"]);

function flattenJson(prefix: string, value: unknown, out: Array<[string, string]>): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => flattenJson(`${prefix}.${i + 1}`, v, out));
  } else if (typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flattenJson(`${prefix}.${k}`, v, out);
  } else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    out.push([prefix, String(value)]);
  }
}

/** `name={...}` for a struct parameter → its flattened children; undefined if the value is not a JSON object. */
function expandStruct(name: string, raw: string): Array<[string, string]> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
  const out: Array<[string, string]> = [];
  flattenJson(name, parsed, out);
  return out;
}

const TRUE = new Set(["true", "True", "TRUE"]);
const FALSE = new Set(["false", "False", "FALSE"]);

export class Params {
  private readonly map = new Map<string, string>();

  /** Struct parameters whose value was neither flattened nor a JSON object (see `checkStructs`). */
  private readonly badStructs: string[] = [];

  constructor(entries: ParamPairs) {
    // Later entries (form body) win over earlier ones (query), like a merged parameter map.
    const structs: Array<[string, string]> = [];
    for (const [k, v] of entries) {
      if (STRUCT_PARAMS.has(k)) structs.push([k, v]);
      else this.map.set(k, v);
    }
    // A JSON struct value is replaced by its children (so secrets inside it, e.g.
    // RemoteConnectionOptions.Password, are masked by name in the call log); explicit flattened
    // parameters win over the JSON form.
    for (const [k, v] of structs) {
      if (v.trim() === "") continue;
      const children = expandStruct(k, v);
      if (!children) {
        this.badStructs.push(k);
        continue;
      }
      for (const [ck, cv] of children) if (!this.map.has(ck)) this.map.set(ck, cv);
    }
  }

  /**
   * Raises `InvalidParameter` naming a struct parameter sent as something other than a JSON object
   * (called after the signature is verified, so a bad value never hides an auth error).
   */
  checkStructs(): void {
    const bad = this.badStructs[0];
    if (bad !== undefined) throw ecsError("InvalidParameter", bad);
  }

  entries(): Array<[string, string]> {
    return [...this.map.entries()];
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  /** True if `name` or any flattened child (`name.x`) is present. */
  hasPrefix(name: string): boolean {
    if (this.map.has(name)) return true;
    const p = `${name}.`;
    for (const k of this.map.keys()) if (k.startsWith(p)) return true;
    return false;
  }

  str(name: string): string | undefined {
    return this.map.get(name);
  }

  required(name: string): string {
    const v = this.map.get(name);
    if (v === undefined || v === "") throw ecsError("MissingParameter", name);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.map.get(name);
    if (v === undefined) return undefined;
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw ecsError("InvalidParameter", name);
  }

  int(name: string, code: "InvalidParameter" = "InvalidParameter"): number | undefined {
    const v = this.map.get(name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v.trim())) throw ecsError(code, name);
    return Number.parseInt(v, 10);
  }

  /**
   * A repeated parameter: `name.1`, `name.2`, … in index order, or one `name` holding a JSON array
   * (some SDK styles send that), or a single plain `name`. Undefined when absent.
   */
  list(name: string): string[] | undefined {
    const indexed: Array<[number, string]> = [];
    const p = `${name}.`;
    for (const [k, v] of this.map) {
      if (!k.startsWith(p)) continue;
      const rest = k.slice(p.length);
      if (/^\d+$/.test(rest)) indexed.push([Number(rest), v]);
    }
    if (indexed.length > 0) return indexed.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    const whole = this.map.get(name);
    if (whole === undefined) return undefined;
    if (whole.trim().startsWith("[")) return this.jsonArray(name);
    return whole === "" ? [] : [whole];
  }

  /** A parameter holding a JSON array of strings, e.g. `InstanceIds=["i-a","i-b"]`. */
  jsonArray(name: string): string[] | undefined {
    const v = this.map.get(name);
    if (v === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      throw ecsError("InvalidParameter", name);
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string")) throw ecsError("InvalidParameter", name);
    return parsed;
  }

  /** `Tag.N.Key` / `Tag.N.Value` pairs. */
  tags(name = "Tag"): Array<{ key: string; value: string | undefined }> {
    const byIndex = new Map<number, { key?: string; value?: string }>();
    const re = new RegExp(`^${name}\\.(\\d+)\\.(Key|Value)$`);
    for (const [k, v] of this.map) {
      const m = re.exec(k);
      if (!m) continue;
      const idx = Number(m[1]);
      const e = byIndex.get(idx) ?? {};
      if (m[2] === "Key") e.key = v;
      else e.value = v;
      byIndex.set(idx, e);
    }
    return [...byIndex.entries()]
      .sort((a, b) => a[0] - b[0])
      .filter(([, e]) => e.key !== undefined)
      .map(([, e]) => ({ key: e.key!, value: e.value }));
  }

  /** Business parameters only (no signature/protocol fields). */
  businessEntries(): Array<[string, string]> {
    return this.entries().filter(([k]) => !PROTOCOL_PARAMS.has(k));
  }
}
