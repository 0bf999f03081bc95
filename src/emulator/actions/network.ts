/** DescribeNetworkInterfaces and DescribeSecurityGroups. */
import { createHash } from "node:crypto";
import { ecsError } from "../errors.js";
import type { Instance } from "../state.js";
import { paginate, wildcardMatch } from "./paging.js";
import type { ActionHandler } from "./types.js";

interface Eni {
  instance: Instance;
  id: string;
  type: "Primary" | "Secondary";
  queueNumber: number;
  mac: string;
  deviceIndex: number;
}

function enisOf(i: Instance): Eni[] {
  const out: Eni[] = [
    {
      instance: i,
      id: i.primaryEni.networkInterfaceId,
      type: "Primary",
      queueNumber: i.primaryEni.queueNumber,
      mac: i.primaryEni.macAddress,
      deviceIndex: 0,
    },
  ];
  i.secondaryEniQueueNumbers.forEach((q, n) => {
    const h = createHash("sha1")
      .update(`${i.instanceId}/${n + 1}`)
      .digest("hex");
    out.push({
      instance: i,
      id: `eni-${h.slice(0, 20)}`,
      type: "Secondary",
      queueNumber: q,
      mac: `00:16:3e:${h.slice(20, 26).match(/../g)!.join(":")}`,
      deviceIndex: n + 1,
    });
  });
  return out;
}

function eniShape(e: Eni): Record<string, unknown> {
  return {
    NetworkInterfaceId: e.id,
    NetworkInterfaceName: "",
    Description: "",
    Type: e.type,
    Status: "InUse",
    InstanceId: e.instance.instanceId,
    QueueNumber: e.queueNumber,
    QueuePairNumber: 0,
    MacAddress: e.mac,
    PrivateIpAddress: e.type === "Primary" ? e.instance.privateIpAddress : "",
    PrivateIpSets: {
      PrivateIpSet: e.type === "Primary" ? [{ PrivateIpAddress: e.instance.privateIpAddress, Primary: true }] : [],
    },
    SecurityGroupIds: { SecurityGroupId: [...e.instance.securityGroupIds] },
    VpcId: e.instance.vpcId,
    VSwitchId: e.instance.vSwitchId,
    ZoneId: e.instance.zoneId,
    Attachment: {
      InstanceId: e.instance.instanceId,
      DeviceIndex: e.deviceIndex,
      NetworkCardIndex: 0,
      TrunkNetworkInterfaceId: "",
    },
    DeleteOnRelease: true,
    NetworkInterfaceTrafficMode: "Standard",
    ServiceManaged: false,
    Tags: { Tag: [] },
  };
}

export const describeNetworkInterfaces: ActionHandler = ({ store, params }) => {
  const regionId = params.required("RegionId");
  const instanceId = params.str("InstanceId");
  const type = params.str("Type");
  const ids = params.list("NetworkInterfaceId");
  const vpcId = params.str("VpcId");
  const sgId = params.str("SecurityGroupId");
  if (ids && ids.length > 100) throw ecsError("InvalidParameter", "NetworkInterfaceId");
  if (type !== undefined && type !== "" && type !== "Primary" && type !== "Secondary") {
    throw ecsError("InvalidParameter", "Type");
  }
  const all: Eni[] = [];
  const view = store.reader("DescribeNetworkInterfaces");
  for (const i of [...store.instances.values()].map(view)) {
    if (i.regionId !== regionId || i.instanceNetworkType !== "vpc") continue;
    if (instanceId && i.instanceId !== instanceId) continue;
    if (vpcId && i.vpcId !== vpcId) continue;
    if (sgId && !i.securityGroupIds.includes(sgId)) continue;
    for (const e of enisOf(i)) {
      if (type && e.type !== type) continue;
      if (ids && !ids.includes(e.id)) continue;
      all.push(e);
    }
  }
  // DescribeNetworkInterfaces metadata: "greater than 500, the default value is 500".
  const page = paginate(all, params, { min: 10, max: 500, overMax: "clamp" });
  return {
    TotalCount: page.totalCount,
    PageNumber: page.pageNumber,
    PageSize: page.pageSize,
    NextToken: page.nextToken,
    NetworkInterfaceSets: {
      NetworkInterfaceSet: page.items.map(eniShape),
    },
  };
};

export const describeSecurityGroups: ActionHandler = ({ store, params }) => {
  const regionId = params.required("RegionId");
  const vpcId = params.str("VpcId");
  const ids = params.jsonArray("SecurityGroupIds");
  const id = params.str("SecurityGroupId");
  const sgType = params.str("SecurityGroupType");
  const networkType = params.str("NetworkType");
  const name = params.str("SecurityGroupName");
  const matched = [...store.securityGroups.values()].filter(
    (g) =>
      g.regionId === regionId &&
      (!vpcId || g.vpcId === vpcId) &&
      (!ids || ids.includes(g.securityGroupId)) &&
      (!id || g.securityGroupId === id) &&
      (!sgType || g.securityGroupType === sgType) &&
      (!networkType || (networkType === "classic" ? g.vpcId === "" : g.vpcId !== "")) &&
      (!name || wildcardMatch(name, g.securityGroupName)),
  );
  // DescribeSecurityGroups metadata gives "Maximum value: 100" and no clamping rule.
  const page = paginate(matched, params, { min: 10, max: 100, overMax: "reject" });
  return {
    RegionId: regionId,
    TotalCount: page.totalCount,
    PageNumber: page.pageNumber,
    PageSize: page.pageSize,
    NextToken: page.nextToken,
    SecurityGroups: {
      SecurityGroup: page.items.map((g) => {
        const members = store.membersOf(g.securityGroupId);
        const capacity = g.capacity ?? (g.securityGroupType === "enterprise" ? store.account.enterpriseGroupEniLimit : store.account.basicGroupInstanceLimit);
        return {
          SecurityGroupId: g.securityGroupId,
          SecurityGroupName: g.securityGroupName,
          Description: g.description,
          SecurityGroupType: g.securityGroupType,
          VpcId: g.vpcId,
          ServiceManaged: g.serviceManaged,
          RuleCount: g.ruleCount,
          GroupToGroupRuleCount: 0,
          EcsCount: members,
          AvailableInstanceAmount: Math.max(0, capacity - members),
          CreationTime: g.creationTime,
          ResourceGroupId: "",
          Tags: { Tag: g.tags.map((t) => ({ TagKey: t.key, TagValue: t.value })) },
        };
      }),
    },
  };
};
