/**
 * Per-instance rendering of a set's template (src/api/set.ts): `{{ .InstanceId }}`, `{{ .ZoneId }}`,
 * `{{ .InstanceName }}` and `{{ .Tags.<key> }}` in the text fields, nothing else.
 *
 * Hand-written on purpose: the language is a fixed list of variable substitutions (no functions,
 * pipelines, conditionals or escaping), which the API server already checks with one RE2 pattern
 * (TEMPLATE_TEXT_PATTERN). A general template engine (Go-template ports, Handlebars) would accept
 * far more than admission does and let a template call code; one regex replace accepts exactly it.
 */
import { TEMPLATE_PLACEHOLDER, type SetTemplate } from "../api/set.js";

/** What a template may refer to, for one instance. */
export interface TemplateVars {
  instanceId: string;
  zoneId: string;
  instanceName: string;
  tags: Readonly<Record<string, string>>;
}

/** The text fields that may hold variables. */
export const TEMPLATE_TEXT_FIELDS = ["instanceName", "description", "hostName"] as const;

export type RenderResult = { ok: true; spec: Record<string, unknown> } | { ok: false; message: string };

/** One text: each placeholder replaced; an absent tag is an error naming the field (never a silent ""). */
export function renderText(text: string, vars: TemplateVars, field: string): { ok: true; value: string } | { ok: false; message: string } {
  const missing: string[] = [];
  const value = text.replace(TEMPLATE_PLACEHOLDER, (_m, name: string, tagKey: string | undefined) => {
    if (tagKey !== undefined) {
      const v = vars.tags[tagKey];
      if (v === undefined) missing.push(tagKey);
      return v ?? "";
    }
    return name === "InstanceId" ? vars.instanceId : name === "ZoneId" ? vars.zoneId : vars.instanceName;
  });
  if (missing.length > 0) return { ok: false, message: `spec.template.${field}: the instance has no tag ${missing.map((k) => `'${k}'`).join(", ")}` };
  return { ok: true, value };
}

/** The attribute part of a child's spec: the template with its text fields rendered for one instance. */
export function renderTemplate(template: SetTemplate, vars: TemplateVars): RenderResult {
  const spec: Record<string, unknown> = { ...template };
  for (const field of TEMPLATE_TEXT_FIELDS) {
    const text = template[field];
    if (text === undefined) continue;
    const r = renderText(text, vars, field);
    if (!r.ok) return r;
    spec[field] = r.value;
  }
  for (const [k, v] of Object.entries(spec)) if (v === undefined) delete spec[k];
  return { ok: true, spec };
}

/** A glob (`*` any run, `?` one character, everything else literal) as an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&"))).join("");
  return new RegExp(`^${body}$`, "s");
}
