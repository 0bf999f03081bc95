import { describe, expect, it } from "vitest";
import { FIELD_ROWS, FIELDS, type FieldName } from "../../../src/api/fields.js";
import { modifyParams } from "../../../src/cloud/ecs.js";
import {
  attributeFlagFrom,
  modifyFields,
  modifySecrets,
  type ModifyRequest,
  normaliseInstance,
  type ObservedInstance,
  observedAfterModify,
  type RawInstance,
} from "../../../src/cloud/model.js";
import { observedInstance } from "../reconciler/fixtures.js";

/** Every managed field set, nested groups complete. */
const full: ModifyRequest = {
  instanceId: "i-1",
  instanceName: "web-1",
  description: "a web server",
  hostName: "web-1",
  password: "Secr3t!pass",
  userData: "aGk=",
  securityGroupIds: ["sg-b", "sg-a"],
  deletionProtection: false,
  creditSpecification: "Unlimited",
  networkInterfaceQueueNumber: 4,
  enableJumboFrame: false,
  cpuOptions: { core: 2, threadsPerCore: 1, topologyType: "DiscreteCoreToHTMapping" },
  privateDnsNameOptions: {
    hostnameType: "Custom",
    enableInstanceIdDnsARecord: true,
    enableInstanceIdDnsAAAARecord: false,
    enableIpDnsARecord: true,
    enableIpDnsPtrRecord: false,
  },
};

/** Dot-separated key paths of T, one level deep (the depth of the field table's names). */
type KeyPath<T> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends readonly unknown[]
    ? K
    : NonNullable<T[K]> extends object
      ? K | `${K}.${keyof NonNullable<T[K]> & string}`
      : K;
}[keyof T & string];
type WriteOnly = Extract<(typeof FIELDS)[number], { read: { action: "none" } }>["name"];

describe("field table ↔ model types", () => {
  it("every row names a key path of ModifyRequest and, when readable, of ObservedInstance (checked by tsc)", () => {
    const inRequest: readonly KeyPath<ModifyRequest>[] = FIELDS.map((r) => r.name);
    const inObserved: readonly KeyPath<ObservedInstance>[] = FIELDS.map((r) => r.name).filter((n): n is Exclude<FieldName, WriteOnly> => n !== "password");
    expect(inRequest).toHaveLength(FIELD_ROWS.length);
    expect(inObserved).toHaveLength(FIELD_ROWS.filter((r) => r.read.action !== "none").length);
  });
});

describe("field table ↔ ModifyInstanceAttribute parameters", () => {
  // That these are the API's names is checked against the generated client in rpc.test.ts.
  it("modifyParams carries every field under its parameter name, groups nested, lists copied", () => {
    const m = modifyParams(full);
    expect(m).toEqual({
      InstanceId: "i-1",
      InstanceName: "web-1",
      Description: "a web server",
      HostName: "web-1",
      Password: "Secr3t!pass",
      UserData: "aGk=",
      SecurityGroupIds: ["sg-b", "sg-a"],
      DeletionProtection: false,
      CreditSpecification: "Unlimited",
      NetworkInterfaceQueueNumber: 4,
      EnableJumboFrame: false,
      CpuOptions: { Core: 2, ThreadsPerCore: 1, TopologyType: "DiscreteCoreToHTMapping" },
      PrivateDnsNameOptions: {
        HostnameType: "Custom",
        EnableInstanceIdDnsARecord: true,
        EnableInstanceIdDnsAAAARecord: false,
        EnableIpDnsARecord: true,
        EnableIpDnsPtrRecord: false,
      },
    });
    // The list is a copy: the transport never holds the plan's array.
    expect(m.SecurityGroupIds).not.toBe(full.securityGroupIds);
  });

  it("modifyParams sends only what is set", () => {
    expect(modifyParams({ instanceId: "i-1", privateDnsNameOptions: { enableIpDnsARecord: true } })).toEqual({
      InstanceId: "i-1",
      PrivateDnsNameOptions: { EnableIpDnsARecord: true },
    });
  });
});

describe("modifyFields / modifySecrets", () => {
  it("lists field names (nested dotted) and the secret values", () => {
    expect(modifyFields({ instanceId: "i-1", instanceName: "x1", cpuOptions: { core: 2, threadsPerCore: undefined }, password: "p" })).toEqual([
      "cpuOptions.core",
      "instanceName",
      "password",
    ]);
    expect(modifyFields(full)).toHaveLength(FIELD_ROWS.length);
    expect(modifySecrets(full)).toEqual(["Secr3t!pass", "aGk="]);
    expect(modifySecrets({ instanceId: "i-1", userData: "" })).toEqual([]);
  });
});

describe("observedAfterModify", () => {
  it("shows what was written, sorted groups, merged nested options; no password", () => {
    const before = observedInstance({ enableJumboFrame: true, networkInterfaceQueueNumber: 2, userData: "" });
    const after = observedAfterModify(before, full);
    expect(after).toEqual({
      ...before,
      instanceName: "web-1",
      description: "a web server",
      hostName: "web-1",
      userData: "aGk=",
      securityGroupIds: ["sg-a", "sg-b"],
      deletionProtection: false,
      creditSpecification: "Unlimited",
      networkInterfaceQueueNumber: 4,
      enableJumboFrame: false,
      cpuOptions: { core: 2, threadsPerCore: 1, topologyType: "DiscreteCoreToHTMapping" },
      privateDnsNameOptions: full.privateDnsNameOptions,
    });
    expect(after).not.toHaveProperty("password");
  });

  it("keeps unsent nested options, leaves -1 to the next read and never changes its input", () => {
    const before = observedInstance({ networkInterfaceQueueNumber: 2 });
    const snapshot = structuredClone(before);
    const after = observedAfterModify(before, { instanceId: "i-bp1abc", networkInterfaceQueueNumber: -1, cpuOptions: { threadsPerCore: 1 } });
    expect(after.networkInterfaceQueueNumber).toBe(2);
    expect(after.cpuOptions).toEqual({ core: 1, threadsPerCore: 1, topologyType: "" });
    expect(before).toEqual(snapshot);
    expect(observedAfterModify(before, { instanceId: "i-bp1abc" })).toEqual(before);
  });
});

describe("normaliseInstance", () => {
  it("decodes every DescribeInstances row", () => {
    // Managed attributes are not members of RawInstance: the field table's keys name them.
    const raw = {
      instanceId: "i-1",
      status: "Stopped",
      OSType: "Windows",
      instanceName: "web-1",
      hostName: "WEB1",
      securityGroupIds: { securityGroupId: ["sg-b", "sg-a", "sg-b"] },
      deletionProtection: true,
      cpuOptions: { coreCount: 2, threadsPerCore: 1 },
      privateDnsNameOptions: { hostnameType: "Custom", enableIpDnsARecord: true },
      networkInterfaces: {
        networkInterface: [
          { networkInterfaceId: "eni-2", type: "Secondary" },
          { networkInterfaceId: "eni-1", type: "Primary" },
        ],
      },
      operationLocks: { lockReason: [{ lockReason: "security" }] },
    };
    expect(normaliseInstance(raw as RawInstance, "cn-hangzhou")).toEqual({
      instanceId: "i-1",
      regionId: "cn-hangzhou",
      zoneId: "",
      status: "Stopped",
      osType: "windows",
      instanceName: "web-1",
      description: "",
      hostName: "WEB1",
      securityGroupIds: ["sg-a", "sg-b"],
      deletionProtection: true,
      creditSpecification: "",
      instanceType: "",
      instanceChargeType: "",
      instanceNetworkType: "",
      vpcId: "",
      startTime: undefined,
      operationLocks: ["security"],
      cpuOptions: { core: 2, threadsPerCore: 1, topologyType: "" },
      privateDnsNameOptions: {
        hostnameType: "Custom",
        enableInstanceIdDnsARecord: false,
        enableInstanceIdDnsAAAARecord: false,
        enableIpDnsARecord: true,
        enableIpDnsPtrRecord: false,
      },
      primaryNetworkInterfaceId: "eni-1",
    });
  });

  it("tolerates a sparse entry (strings for numbers and booleans, missing groups)", () => {
    const o = normaliseInstance(
      { instanceId: "i-2", regionId: "eu-central-1", deletionProtection: "true", cpuOptions: { coreCount: "4" } } as unknown as RawInstance,
      "cn-hangzhou",
    );
    expect(o).toMatchObject({
      regionId: "eu-central-1",
      deletionProtection: true,
      securityGroupIds: [],
      cpuOptions: { core: 4, threadsPerCore: undefined, topologyType: "" },
    });
  });
});

describe("attributeFlagFrom", () => {
  it("reads the row's key at the top level, else under NetworkOptions", () => {
    expect(attributeFlagFrom({ enableJumboFrame: true }, "EnableJumboFrame")).toBe(true);
    expect(attributeFlagFrom({ networkOptions: { enableJumboFrame: true } }, "EnableJumboFrame")).toBe(true);
    expect(attributeFlagFrom({ enableJumboFrame: false, networkOptions: { enableJumboFrame: true } }, "EnableJumboFrame")).toBe(false);
    expect(attributeFlagFrom(undefined, "EnableJumboFrame")).toBe(false);
  });
});
