/**
 * Manifests shared by the unit tests (zod) and the integration tests (real API server): one valid
 * base spec and a table of invalid specs, each breaking exactly one rule. The same table running on
 * both sides is how we check that zod and the CRD (patterns, enums, CEL) agree.
 */
import { API_VERSION, KIND } from "../../../src/api/index.js";

export type Spec = Record<string, unknown>;

export const BASE_SPEC: Spec = {
  instanceId: "i-bp1demo0000000001",
  regionId: "cn-hangzhou",
};

export interface InvalidCase {
  /** Short name of the broken rule. */
  name: string;
  /** Spec fields to set on top of BASE_SPEC; `undefined` removes the field. */
  spec: Spec;
  /** Field path both the API server's and zod's messages must name, e.g. "spec.hostName". */
  field: string;
}

const long = (n: number, start = "a") => start + "b".repeat(n - 1);
const sg = (i: number) => `sg-bp1demo${String(i).padStart(10, "0")}`;

export const INVALID_CASES: readonly InvalidCase[] = [
  { name: "instanceId missing", spec: { instanceId: undefined }, field: "spec.instanceId" },
  { name: "instanceId without i- prefix", spec: { instanceId: "vm-123" }, field: "spec.instanceId" },
  { name: "instanceId with upper case", spec: { instanceId: "i-BP1DEMO" }, field: "spec.instanceId" },
  { name: "regionId missing", spec: { regionId: undefined }, field: "spec.regionId" },
  { name: "regionId malformed", spec: { regionId: "Hangzhou" }, field: "spec.regionId" },
  { name: "instanceName starts with a digit", spec: { instanceName: "1web" }, field: "spec.instanceName" },
  { name: "instanceName starts with https://", spec: { instanceName: "https://web" }, field: "spec.instanceName" },
  { name: "instanceName starts with http://", spec: { instanceName: "http://web" }, field: "spec.instanceName" },
  { name: "instanceName 129 characters", spec: { instanceName: long(129) }, field: "spec.instanceName" },
  { name: "instanceName 1 character", spec: { instanceName: "a" }, field: "spec.instanceName" },
  { name: "instanceName with a space", spec: { instanceName: "web 1" }, field: "spec.instanceName" },
  { name: "description 1 character", spec: { description: "x" }, field: "spec.description" },
  { name: "description 257 characters", spec: { description: long(257) }, field: "spec.description" },
  { name: "description starts with https://", spec: { description: "https://example.com/app" }, field: "spec.description" },
  { name: "hostName 1 character", spec: { hostName: "a" }, field: "spec.hostName" },
  { name: "hostName 65 characters", spec: { hostName: long(65) }, field: "spec.hostName" },
  { name: "hostName with '..'", spec: { hostName: "web..internal" }, field: "spec.hostName" },
  { name: "hostName with '--'", spec: { hostName: "web--1" }, field: "spec.hostName" },
  { name: "hostName starts with '-'", spec: { hostName: "-web" }, field: "spec.hostName" },
  { name: "hostName ends with '.'", spec: { hostName: "web." }, field: "spec.hostName" },
  { name: "hostName with '_'", spec: { hostName: "web_1" }, field: "spec.hostName" },
  { name: "duplicate security groups", spec: { securityGroupIds: [sg(1), sg(1)] }, field: "spec.securityGroupIds" },
  { name: "empty security group list", spec: { securityGroupIds: [] }, field: "spec.securityGroupIds" },
  { name: "17 security groups", spec: { securityGroupIds: Array.from({ length: 17 }, (_, i) => sg(i)) }, field: "spec.securityGroupIds" },
  { name: "security group without sg- prefix", spec: { securityGroupIds: ["group-1"] }, field: "spec.securityGroupIds" },
  {
    name: "userData with two sources",
    spec: { userData: { inlineBase64: "aGVsbG8=", configMapRef: { name: "cloud-init", key: "user-data" } } },
    field: "spec.userData",
  },
  { name: "userData with no source", spec: { userData: {} }, field: "spec.userData" },
  { name: "userData inline not Base64", spec: { userData: { inlineBase64: "not base64!" } }, field: "spec.userData.inlineBase64" },
  {
    name: "userData inline decodes to 32769 bytes",
    spec: { userData: { inlineBase64: "A".repeat(43692) } },
    field: "spec.userData.inlineBase64",
  },
  { name: "userData secretRef key '..'", spec: { userData: { secretRef: { name: "cloud-init", key: ".." } } }, field: "spec.userData.secretRef.key" },
  { name: "creditSpecification not in enum", spec: { creditSpecification: "Burst" }, field: "spec.creditSpecification" },
  { name: "cpuOptions.topologyType not in enum", spec: { cpuOptions: { topologyType: "Random" } }, field: "spec.cpuOptions.topologyType" },
  { name: "cpuOptions.core 0", spec: { cpuOptions: { core: 0 } }, field: "spec.cpuOptions.core" },
  {
    name: "privateDnsNameOptions.hostnameType not in enum",
    spec: { privateDnsNameOptions: { hostnameType: "Fancy" } },
    field: "spec.privateDnsNameOptions.hostnameType",
  },
  { name: "managementPolicy not in enum", spec: { managementPolicy: "Delete" }, field: "spec.managementPolicy" },
  { name: "networkInterfaceQueueNumber 0", spec: { networkInterfaceQueueNumber: 0 }, field: "spec.networkInterfaceQueueNumber" },
  { name: "networkInterfaceQueueNumber -2", spec: { networkInterfaceQueueNumber: -2 }, field: "spec.networkInterfaceQueueNumber" },
  {
    name: "passwordSecretRef.name not a DNS subdomain",
    spec: { passwordSecretRef: { name: "My_Secret", key: "password" } },
    field: "spec.passwordSecretRef.name",
  },
  { name: "passwordSecretRef.key with '/'", spec: { passwordSecretRef: { name: "login", key: "bad/key" } }, field: "spec.passwordSecretRef.key" },
  { name: "passwordSecretRef without key", spec: { passwordSecretRef: { name: "login" } }, field: "spec.passwordSecretRef.key" },
  { name: "credentialsSecretRef.name upper case", spec: { credentialsSecretRef: { name: "UPPER" } }, field: "spec.credentialsSecretRef.name" },
  { name: "deletionProtection not a boolean", spec: { deletionProtection: "yes" }, field: "spec.deletionProtection" },
];

/** BASE_SPEC with `over` applied (`undefined` deletes a key). */
export function specWith(over: Spec): Spec {
  const out: Spec = { ...BASE_SPEC };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

export function manifest(name: string, spec: Spec, namespace?: string): Record<string, unknown> {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name, ...(namespace ? { namespace } : {}) }, spec };
}

/**
 * Values per rule for the zod ↔ API-server agreement check: each is tried at `field` on top of
 * BASE_SPEC; both sides must give the same verdict. Mixes valid and invalid values.
 */
export const AGREEMENT_VALUES: Readonly<Record<string, readonly unknown[]>> = {
  instanceId: ["i-bp67acfmxazb4ph00001", "i-1", "i-", "i-bp1_x", "x-bp1", "i-bp1demo0000000001"],
  regionId: ["cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1", "cn", "cn-", "CN-hangzhou", "us-east-1"],
  instanceName: [
    "web-1",
    "Web:01_a.b",
    "ab",
    "a",
    "1ab",
    "_ab",
    "网站-1",
    "web网站",
    "web 1",
    "web/1",
    "http-server",
    "https:x",
    "http://x",
    "https://x",
    "web@1",
    long(128),
    long(129),
  ],
  description: ["ok", "x", "anything at all: / \\ ' \"", "http://x", "https://x", "Http://x", "see http://x", long(256), long(257)],
  hostName: [
    "ab",
    "a",
    "web-1",
    "web.internal",
    "a.b.c",
    "a-.b",
    "a.-b",
    "web..1",
    "web--1",
    ".web",
    "web.",
    "-web",
    "web-",
    "web_1",
    "WEB1",
    "123",
    long(64),
    long(65),
    "a b",
  ],
  networkInterfaceQueueNumber: [-2, -1, 0, 1, 8, 64],
  securityGroupIds: [["sg-a"], ["sg-a", "sg-b"], ["sg-a", "sg-a"], [], ["SG-a"], ["sg-"]],
  userData: [
    { inlineBase64: "aGVsbG8=" },
    { inlineBase64: "aGVsbG8" },
    { inlineBase64: "aGVs bG8=" },
    { inlineBase64: "aGk=" },
    { inlineBase64: "A".repeat(43688) },
    { inlineBase64: `${"A".repeat(43688)}AA==` },
    { inlineBase64: `${"A".repeat(43688)}AAA=` },
    { inlineBase64: "A".repeat(43692) },
    { secretRef: { name: "s", key: "k" } },
    { configMapRef: { name: "c", key: "k" } },
    { secretRef: { name: "s", key: "k" }, inlineBase64: "aGk=" },
    {},
  ],
};
