/**
 * Resolves the spec's references (password Secret, user data Secret/ConfigMap/inline, credentials
 * Secret) into values plus the identity of the version they came from. Reads from informer caches
 * through `ObjectReader`, so a reconcile costs no Kubernetes GETs.
 *
 * Errors are `InputError`s that name the field and the missing object, never a value.
 */
import type { EcsInstanceAttributesSpec } from "../api/index.js";
import type { EcsCredentials } from "../cloud/client.js";
import type { ResolvedValue } from "./plan.js";

export interface KubeObjectMeta {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}
export interface SecretLike extends KubeObjectMeta {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
export interface ConfigMapLike extends KubeObjectMeta {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** Read access to cached Secrets and ConfigMaps. */
export interface ObjectReader {
  getSecret(namespace: string, name: string): SecretLike | undefined;
  getConfigMap(namespace: string, name: string): ConfigMapLike | undefined;
}

/** A reference that cannot be resolved now; fixed by creating the object or key (so: retried on change). */
export class InputError extends Error {
  constructor(
    readonly field: string,
    message: string,
    /** What is missing, for the condition reason. */
    readonly kind: "Secret" | "ConfigMap" = "Secret",
  ) {
    super(message);
    this.name = "InputError";
  }
}

export interface ResolvedInputs {
  password?: ResolvedValue | undefined;
  userData?: ResolvedValue | undefined;
  credentials?: EcsCredentials | undefined;
}

const CREDENTIAL_KEYS = {
  accessKeyId: "ALIBABA_CLOUD_ACCESS_KEY_ID",
  accessKeySecret: "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
  securityToken: "ALIBABA_CLOUD_SECURITY_TOKEN",
} as const;

function secretValue(secret: SecretLike, key: string): Buffer | undefined {
  const b64 = secret.data?.[key];
  if (b64 !== undefined) return Buffer.from(b64, "base64");
  const plain = secret.stringData?.[key];
  return plain === undefined ? undefined : Buffer.from(plain, "utf8");
}

function requireSecret(reader: ObjectReader, namespace: string, field: string, name: string): SecretLike {
  const s = reader.getSecret(namespace, name);
  if (!s) throw new InputError(field, `${field}: Secret ${namespace}/${name} not found`);
  return s;
}

function requireSecretKey(secret: SecretLike, field: string, key: string): Buffer {
  const v = secretValue(secret, key);
  if (v === undefined) {
    throw new InputError(field, `${field}: key "${key}" not found in Secret ${secret.metadata?.namespace}/${secret.metadata?.name}`);
  }
  return v;
}

function sourceOf(kind: "Secret" | "ConfigMap", obj: KubeObjectMeta, key: string): ResolvedValue["source"] {
  return { kind, name: obj.metadata?.name, key, uid: obj.metadata?.uid, resourceVersion: obj.metadata?.resourceVersion };
}

export function resolveInputs(reader: ObjectReader, namespace: string, spec: EcsInstanceAttributesSpec, generation: number): ResolvedInputs {
  const out: ResolvedInputs = {};

  if (spec.passwordSecretRef) {
    const { name, key } = spec.passwordSecretRef;
    const secret = requireSecret(reader, namespace, "spec.passwordSecretRef", name);
    const value = requireSecretKey(secret, "spec.passwordSecretRef", key).toString("utf8");
    out.password = { value, source: sourceOf("Secret", secret, key) };
  }

  const ud = spec.userData;
  if (ud?.secretRef) {
    const secret = requireSecret(reader, namespace, "spec.userData.secretRef", ud.secretRef.name);
    const raw = requireSecretKey(secret, "spec.userData.secretRef", ud.secretRef.key);
    out.userData = { value: raw.toString("base64"), source: sourceOf("Secret", secret, ud.secretRef.key) };
  } else if (ud?.configMapRef) {
    const { name, key } = ud.configMapRef;
    const cm = reader.getConfigMap(namespace, name);
    if (!cm) throw new InputError("spec.userData.configMapRef", `spec.userData.configMapRef: ConfigMap ${namespace}/${name} not found`, "ConfigMap");
    const text = cm.data?.[key];
    const bin = cm.binaryData?.[key];
    if (text === undefined && bin === undefined) {
      throw new InputError("spec.userData.configMapRef", `spec.userData.configMapRef: key "${key}" not found in ConfigMap ${namespace}/${name}`, "ConfigMap");
    }
    const value = text !== undefined ? Buffer.from(text, "utf8").toString("base64") : bin!;
    out.userData = { value, source: sourceOf("ConfigMap", cm, key) };
  } else if (ud?.inlineBase64 !== undefined) {
    out.userData = { value: ud.inlineBase64, source: { kind: "Inline", generation } };
  }

  out.credentials = resolveCredentials(reader, namespace, spec);
  return out;
}

/** The per-resource credentials from spec.credentialsSecretRef, or undefined for the default chain. */
export function resolveCredentials(
  reader: ObjectReader,
  namespace: string,
  spec: Pick<EcsInstanceAttributesSpec, "credentialsSecretRef">,
): EcsCredentials | undefined {
  if (spec.credentialsSecretRef) return accessKeyFrom(reader, namespace, spec.credentialsSecretRef.name, "spec.credentialsSecretRef");
  return undefined;
}

/** The AccessKey (and optional STS token) in Secret namespace/name; throws InputError naming what is missing. */
function accessKeyFrom(reader: ObjectReader, namespace: string, name: string, field: string): Extract<EcsCredentials, { type: "accessKey" }> {
  const secret = requireSecret(reader, namespace, field, name);
  const token = secretValue(secret, CREDENTIAL_KEYS.securityToken);
  return {
    type: "accessKey",
    accessKeyId: requireSecretKey(secret, field, CREDENTIAL_KEYS.accessKeyId).toString("utf8").trim(),
    accessKeySecret: requireSecretKey(secret, field, CREDENTIAL_KEYS.accessKeySecret).toString("utf8").trim(),
    securityToken: token?.toString("utf8").trim() || undefined,
  };
}

/**
 * An AccessKey Secret in any namespace (an EcsProviderConfig's credentials.secretRef), or why it
 * cannot be read; the error names the Secret and the key, never a value.
 */
export function readAccessKeySecret(
  reader: ObjectReader,
  namespace: string,
  name: string,
  field: string,
): Extract<EcsCredentials, { type: "accessKey" }> | { error: string } {
  try {
    return accessKeyFrom(reader, namespace, name, field);
  } catch (e) {
    if (e instanceof InputError) return { error: e.message };
    throw e;
  }
}

/** Names of the Secrets and ConfigMaps a spec references (to re-queue it when they change). */
export function referencedObjects(spec: Partial<EcsInstanceAttributesSpec> | undefined): { secrets: string[]; configMaps: string[] } {
  const secrets = [spec?.passwordSecretRef?.name, spec?.userData?.secretRef?.name, spec?.credentialsSecretRef?.name].filter(
    (n): n is string => typeof n === "string",
  );
  const configMaps = [spec?.userData?.configMapRef?.name].filter((n): n is string => typeof n === "string");
  return { secrets, configMaps };
}
