/**
 * What an EcsProviderConfig allows, as pure functions: which config a resource uses, and whether its
 * namespace, region, fields and (after the ECS read) its instance's tags pass the config's
 * constraints. No I/O: the caller passes the cached config, the namespace's labels and the instance
 * as read. Every denial names the config and the rule (constraints.*), so the condition tells an
 * admin exactly what to change.
 *
 * The label-selector matcher is hand-written: @kubernetes/client-node has no selector evaluator,
 * and the four metav1.LabelSelector operators are a few lines.
 */
import { DEFAULT_PROVIDER_CONFIG_NAME, type EcsProviderConfigSpec, type LabelSelector, parseProviderConfigSpec } from "../../api/provider-config.js";
import { FIELD_ROWS, specPath, valueAt } from "../../api/fields.js";
import type { EcsInstanceAttributesSpec } from "../../api/index.js";

/** Why a resource may not use its config (or the config is missing). */
export interface Denial {
  kind: "ProviderConfigNotFound" | "Forbidden" | "CredentialsError";
  /** The rule, e.g. constraints.namespaceSelector. */
  rule: string;
  message: string;
}

/**
 * The config a resource uses: `spec` undefined means no constraints (no `default` config exists
 * and the controller does not require one: today's behaviour, the controller's own credentials).
 */
export interface ConfigChoice {
  name: string;
  spec?: EcsProviderConfigSpec | undefined;
  denial?: Denial | undefined;
}

/** A cached EcsProviderConfig as the informer holds it (spec not yet parsed). */
export interface CachedConfig {
  metadata?: { name?: string };
  spec?: unknown;
}

/**
 * Picks the config named by spec.providerConfigRef (omitted: `default`). A missing `default` is
 * today's behaviour unless `requireConfig`; any other missing name is ProviderConfigNotFound. A
 * config whose spec does not parse (written around admission, or by an older CRD) denies everything.
 */
export function chooseConfig(refName: string | undefined, get: (name: string) => CachedConfig | undefined, requireConfig: boolean): ConfigChoice {
  const name = refName ?? DEFAULT_PROVIDER_CONFIG_NAME;
  const cached = get(name);
  if (!cached) {
    if (name === DEFAULT_PROVIDER_CONFIG_NAME && !requireConfig) return { name };
    const message = `EcsProviderConfig ${name} not found${refName === undefined ? " (spec.providerConfigRef omitted: the config named default is used)" : ""}; no ECS call is made until it exists`;
    return { name, denial: { kind: "ProviderConfigNotFound", rule: "spec.providerConfigRef", message } };
  }
  const parsed = parseProviderConfigSpec(cached.spec);
  if (!parsed.ok) return { name, denial: forbidden(name, "spec", `the config is invalid (${parsed.message}); nothing may use it`) };
  return { name, spec: parsed.spec };
}

function forbidden(config: string, rule: string, what: string): Denial {
  return { kind: "Forbidden", rule, message: `EcsProviderConfig ${config} (${rule}): ${what}` };
}

/** True when `labels` satisfy the selector (an empty selector selects everything). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key] ?? "");
    const ok = e.operator === "In" ? inValues : e.operator === "NotIn" ? !inValues : e.operator === "Exists" ? has : !has;
    if (!ok) return false;
  }
  return true;
}

/** The spec's managed fields that are set, by field-table name (password for passwordSecretRef, …). */
export function fieldsSet(spec: EcsInstanceAttributesSpec): string[] {
  return FIELD_ROWS.filter((row) => valueAt(spec, specPath(row)) !== undefined).map((row) => row.name);
}

/**
 * The first constraint the resource breaks before anything is read from ECS: namespace, region,
 * fields. `namespaceLabels` undefined means the namespace is not (yet) known: a selector then denies.
 */
export function preReadDenial(
  choice: ConfigChoice,
  namespace: string,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  spec: EcsInstanceAttributesSpec,
): Denial | undefined {
  if (choice.denial) return choice.denial;
  const c = choice.spec?.constraints;
  if (!c) return undefined;
  if (c.namespaceSelector && !(namespaceLabels && selectorMatches(c.namespaceSelector, namespaceLabels))) {
    const why = namespaceLabels ? "its labels do not match the selector" : "its labels are not known to the controller";
    return forbidden(choice.name, "constraints.namespaceSelector", `namespace ${namespace} may not use this config (${why})`);
  }
  if (c.allowedRegions && !c.allowedRegions.includes(spec.regionId)) {
    return forbidden(choice.name, "constraints.allowedRegions", `region ${spec.regionId} is not allowed (allowed: ${c.allowedRegions.join(", ")})`);
  }
  if (c.allowedFields) {
    const allowed = new Set<string>(c.allowedFields);
    const denied = fieldsSet(spec).filter((f) => !allowed.has(f));
    if (denied.length > 0) {
      const named = denied.map((f) => `${f}${f === "password" ? " (spec.passwordSecretRef)" : ""}`);
      return forbidden(choice.name, "constraints.allowedFields", `field${denied.length > 1 ? "s" : ""} ${named.join(", ")} may not be set`);
    }
  }
  return undefined;
}

/** The first required tag the instance (as just read from ECS) lacks; named with the instance. */
export function tagDenial(
  choice: ConfigChoice,
  instance: { instanceId: string; tags?: readonly { key: string; value: string }[] | undefined },
): Denial | undefined {
  for (const want of choice.spec?.constraints?.instanceTags ?? []) {
    const got = (instance.tags ?? []).find((t) => t.key === want.key);
    if (got && (want.value === undefined || got.value === want.value)) continue;
    const tag = want.value === undefined ? `tag ${want.key}` : `tag ${want.key}=${want.value}`;
    const seen = got ? ` (it has ${want.key}=${got.value})` : "";
    return forbidden(choice.name, "constraints.instanceTags", `instance ${instance.instanceId} lacks the required ${tag}${seen}; nothing is written to it`);
  }
  return undefined;
}
