import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ClientError, ServerError, ThrottlingError } from "@alicloud/openapi-core";
import { CLASSIFICATION_RULES, classifyCode, EcsError, type ErrorClass, scrubSecrets, SyntheticCode, toEcsError } from "../../../src/cloud/errors.js";

// Expected classes written out independently of the implementation's table, code by code, from
// ecs-api.md §4.1 (ModifyInstanceAttribute), §4.2 (common codes), §4.3 and §7.
const EXPECTED: Record<string, { http: number; cls: ErrorClass }> = {
  // §4.1, class X
  "InvalidInstanceName.Malformed": { http: 400, cls: "terminal" },
  "InvalidDescription.Malformed": { http: 400, cls: "terminal" },
  "InvalidHostName.Malformed": { http: 400, cls: "terminal" },
  "InvalidPassword.Malformed": { http: 400, cls: "terminal" },
  "InvalidHostPassword.Malformed": { http: 400, cls: "terminal" },
  "InvalidUserData.SizeExceeded": { http: 400, cls: "terminal" },
  "InvalidUserData.NotSupported": { http: 400, cls: "terminal" },
  ImageNotSupportCloudInit: { http: 400, cls: "terminal" },
  InvalidParameter: { http: 400, cls: "terminal" },
  "InvalidParameter.CreditSpecification": { http: 400, cls: "terminal" },
  "InvalidParameter.RecycleBin": { http: 400, cls: "terminal" },
  "InvalidParameter.CpuOptionsTopologyType": { http: 400, cls: "terminal" },
  "InvalidParameter.CpuOptionsTurboMode": { http: 400, cls: "terminal" },
  "InvalidRemoteConnectionOptions.Password": { http: 400, cls: "terminal" },
  "InvalidRemoteConnectionOptions.Type": { http: 400, cls: "terminal" },
  "InstanceType.ValueNotSupported": { http: 400, cls: "terminal" },
  "OSType.ValueNotSupported": { http: 400, cls: "terminal" },
  ChargeTypeViolation: { http: 400, cls: "terminal" },
  "InvalidNetworkType.NotSupported": { http: 400, cls: "terminal" },
  "InvalidParam.NotSupportJumboFrame": { http: 400, cls: "terminal" },
  "InvalidInstanceType.NotSupportCpuOptionsTopologyType": { http: 400, cls: "terminal" },
  "InvalidInstanceType.NotSupportHighDensityMode": { http: 400, cls: "terminal" },
  "InvalidInstanceType.EnableNVSUnsupported": { http: 400, cls: "terminal" },
  "InvalidInstanceType.EnableVISSTUnsupported": { http: 400, cls: "terminal" },
  "InvalidInstanceType.EnableVRDTUnsupported": { http: 400, cls: "terminal" },
  "InvalidInstanceType.SingleCoreMaxModeUnsupported": { http: 400, cls: "terminal" },
  "InvalidAdditionalInfoPvdConfig.SizeExceeded": { http: 400, cls: "terminal" },
  "InvalidParameter.CpuOptionsNestedVirtualization": { http: 400, cls: "terminal" },
  "InvalidInstanceType.NotSupportCpuOptionsNestedVirtualization": { http: 400, cls: "terminal" },
  "InvalidInstanceType.GpuOptionsConfidentialComputingUnsupported": { http: 400, cls: "terminal" },
  "InvalidParameter.GpuOptionsConfidentialComputing": { http: 400, cls: "terminal" },
  "InvalidParameterAuthorized.GpuOptionsConfidentialComputing": { http: 400, cls: "terminal" },
  "InvalidOperation.EniCountExceeded": { http: 400, cls: "terminal" },
  JoinedGroupLimitExceed: { http: 400, cls: "terminal" },
  // §4.1, class W
  "InvalidStatus.StoppedRequired": { http: 400, cls: "waitForState" },
  "InvalidInstanceStatus.NotRunning": { http: 400, cls: "waitForState" },
  "InvalidOperation.InvalidEcsState": { http: 400, cls: "waitForState" },
  "InvalidOperation.InstanceStatusNotSupport": { http: 400, cls: "waitForState" },
  "InvalidOperation.InstanceStatusUnsupported": { http: 400, cls: "waitForState" },
  "InvalidInstanceStatus.CreditSpecRestricted": { http: 400, cls: "waitForState" },
  IncorrectInstanceStatus: { http: 403, cls: "waitForState" },
  "InvalidInstanceStatus.NeedRestart": { http: 404, cls: "waitForState" },
  // §4.1, class L
  InstanceLockedForSecurity: { http: 403, cls: "locked" },
  // §4.1, 403 class X (InvalidUser.Unauthorized is a permission problem: auth)
  "InvalidUserData.Forbidden": { http: 403, cls: "terminal" },
  "InvalidUserData.Base64FormatInvalid": { http: 403, cls: "terminal" },
  "InvalidChargeType.ValueNotSupported": { http: 403, cls: "terminal" },
  "InvalidUser.Unauthorized": { http: 403, cls: "auth" },
  "EnterpriseGroupLimited.MutliGroupType": { http: 403, cls: "terminal" },
  SecurityGroupInstanceLimitExceed: { http: 403, cls: "terminal" },
  InstanceNotInSecurityGroup: { http: 403, cls: "terminal" },
  "InvalidOperation.InvalidRegion": { http: 403, cls: "terminal" },
  "InvalidOperation.ResourceManagedByCloudProduct": { http: 403, cls: "terminal" },
  AclLimitExceed: { http: 403, cls: "terminal" },
  "InvalidParameter.InvalidEniQueueNumber": { http: 403, cls: "terminal" },
  "InvalidOperation.MaxEniQueueNumberExceeded": { http: 403, cls: "terminal" },
  "InvalidOperation.ExceedInstanceTypeQueueNumber": { http: 403, cls: "terminal" },
  "InvalidOperation.InstanceTypeNotSupportHighPerformanceTrafficMode": { http: 403, cls: "terminal" },
  "InvalidParameter.InvalidQueuePairNumber": { http: 403, cls: "terminal" },
  "InvalidOperation.MaxEniQueuePairNumberExceed": { http: 403, cls: "terminal" },
  "InvalidOperation.EniQueuePairNumberOverflow": { http: 403, cls: "terminal" },
  "InvalidInstanceType.CpuOptionsThreadsPerCoreUnsupported": { http: 403, cls: "terminal" },
  "InvalidParameter.CpuOptionsCore": { http: 403, cls: "terminal" },
  "InvalidParameter.CpuOptionsThreadsPerCore": { http: 403, cls: "terminal" },
  "InvalidOperation.UserNotSupportNetworkEncryption": { http: 403, cls: "terminal" },
  "InvalidOperation.InstanceTypeNotSupportNetworkEncryption": { http: 403, cls: "terminal" },
  // §4.1, 404
  "InvalidInstanceId.NotFound": { http: 404, cls: "notFound" },
  "InvalidSecurityGroupId.NotFound": { http: 404, cls: "terminal" },
  "InvalidParameter.SecurityGroupIdRepeated": { http: 404, cls: "terminal" },
  "InvalidSecurityGroupType.NotSupportClassic": { http: 404, cls: "terminal" },
  "InvalidSecurityGroupVpc.NotBelongToOneVpc": { http: 404, cls: "terminal" },
  "Credit.NotFound": { http: 404, cls: "terminal" },
  // §4.1 / §4.2, 5xx
  InternalError: { http: 500, cls: "transient" },
  ServiceUnavailable: { http: 503, cls: "transient" },
  "ServiceUnavailable.RegionMaintaining": { http: 503, cls: "transient" },
  // §4.2 common codes
  IdempotentParameterMismatch: { http: 400, cls: "terminal" },
  IllegalTimestamp: { http: 400, cls: "auth" },
  IncompleteSignature: { http: 400, cls: "auth" },
  "InvalidAccessKeyId.NotFound": { http: 400, cls: "auth" },
  MissingParameter: { http: 400, cls: "terminal" },
  SignatureNonceUsed: { http: 400, cls: "transient" },
  Throttling: { http: 400, cls: "transient" },
  UnsupportedParameter: { http: 400, cls: "terminal" },
  UnknownError: { http: 400, cls: "transient" },
  "Forbidden.RAM": { http: 403, cls: "auth" },
  "Forbidden.Unauthorized": { http: 403, cls: "auth" },
  "Forbidden.AccessKeyDisabled": { http: 403, cls: "auth" },
  "Forbidden.RiskControl": { http: 403, cls: "auth" },
  InvalidAction: { http: 403, cls: "terminal" },
  LastTokenProcessing: { http: 403, cls: "transient" },
  RealNameAuthenticationError: { http: 403, cls: "terminal" },
  "InvalidRegionId.NotFound": { http: 404, cls: "terminal" },
  OperationConflict: { http: 409, cls: "transient" },
  // throttling seen in practice / TF retry sets; signature
  "Throttling.User": { http: 400, cls: "transient" },
  "Throttling.Api": { http: 400, cls: "transient" },
  "Throttling.ConcurrentLimitExceeded": { http: 400, cls: "transient" },
  "Rejected.Throttling": { http: 400, cls: "transient" },
  "InvalidOperation.Conflict": { http: 400, cls: "transient" },
  SignatureDoesNotMatch: { http: 400, cls: "auth" },
};

describe("classification table", () => {
  for (const [code, { http, cls }] of Object.entries(EXPECTED)) {
    it(`${code} (${http}) → ${cls}`, () => {
      expect(classifyCode(code, http)).toBe(cls);
    });
  }

  it("OperationDenied depends on its message", () => {
    expect(classifyCode("OperationDenied", 403, "The current status of the resource does not support this operation.")).toBe("waitForState");
    expect(classifyCode("OperationDenied", 403, "The instance amount in the specified SecurityGroup reach its limit.")).toBe("terminal");
    expect(classifyCode("OperationDenied", 403)).toBe("terminal");
  });

  it("unknown codes fall back on the HTTP status: 5xx transient, otherwise terminal", () => {
    expect(classifyCode("SomethingNew", 502)).toBe("transient");
    expect(classifyCode("SomethingNew", 599)).toBe("transient");
    expect(classifyCode("SomethingNew", 400)).toBe("terminal");
    expect(classifyCode("SomethingNew", 404)).toBe("terminal");
    expect(classifyCode("SomethingNew")).toBe("terminal");
  });

  it("a known code wins over the HTTP status (404 NeedRestart waits, 400 throttling retries)", () => {
    expect(classifyCode("InvalidInstanceStatus.NeedRestart", 404)).toBe("waitForState");
    expect(classifyCode("InvalidSecurityGroupId.NotFound", 404)).toBe("terminal");
    expect(classifyCode("InvalidParameter", 500)).toBe("terminal");
  });

  it("synthetic codes", () => {
    expect(classifyCode(SyntheticCode.Network)).toBe("transient");
    expect(classifyCode(SyntheticCode.Timeout)).toBe("transient");
    expect(classifyCode(SyntheticCode.InvalidResponse)).toBe("transient");
    expect(classifyCode(SyntheticCode.ClientThrottled)).toBe("transient");
    expect(classifyCode(SyntheticCode.CredentialsUnavailable)).toBe("auth");
    expect(classifyCode(SyntheticCode.Unexpected)).toBe("terminal");
  });
});

describe("toEcsError (what the SDK 7.11.6 throws)", () => {
  it("ClientError: code, status, request id, raw message without the SDK decoration", () => {
    const sdk = new ClientError({
      statusCode: 403,
      code: "IncorrectInstanceStatus",
      message: "code: 403, The current status of the resource does not support this operation. request id: REQ-1",
      requestId: "REQ-1",
      data: { Code: "IncorrectInstanceStatus", Message: "The current status of the resource does not support this operation.", RequestId: "REQ-1" },
    });
    const e = toEcsError(sdk, "ModifyInstanceAttribute");
    expect(e).toBeInstanceOf(EcsError);
    expect(e.code).toBe("IncorrectInstanceStatus");
    expect(e.httpStatus).toBe(403);
    expect(e.requestId).toBe("REQ-1");
    expect(e.message).toBe("The current status of the resource does not support this operation.");
    expect(e.message).not.toContain("REQ-1");
    expect(e.errorClass).toBe("waitForState");
    expect(e.retryable).toBe(true);
    expect(e.action).toBe("ModifyInstanceAttribute");
  });

  it("ThrottlingError carries retryAfter from x-acs-retry-after", () => {
    const sdk = new ThrottlingError({
      statusCode: 400,
      code: "Throttling.User",
      message: "code: 400, Request was denied due to user flow control. request id: R2",
      retryAfter: 1500,
      requestId: "R2",
      data: { Code: "Throttling.User", Message: "Request was denied due to user flow control." },
    });
    const e = toEcsError(sdk, "DescribeInstances");
    expect(e.code).toBe("Throttling.User");
    expect(e.retryAfterMs).toBe(1500);
    expect(e.throttled).toBe(true);
    expect(e.errorClass).toBe("transient");
  });

  it("ServerError 500 InternalError is transient", () => {
    const sdk = new ServerError({ statusCode: 500, code: "InternalError", message: "code: 500, x request id: R", requestId: "R", data: {} });
    const e = toEcsError(sdk, "DescribeInstances");
    expect(e.errorClass).toBe("transient");
    expect(e.message).toBe("x");
  });

  it("an error body without a Code is classified by its HTTP status", () => {
    const five = toEcsError(
      new ServerError({ statusCode: 504, code: "undefined", message: "code: 504, undefined request id: undefined", data: {} }),
      "DescribeInstances",
    );
    expect(five).toMatchObject({ code: "HttpError504", errorClass: "transient", httpStatus: 504 });
    expect(five.requestId).toBeUndefined();
    expect(five.message).toBe("HttpError504");
    const four = toEcsError(new ClientError({ statusCode: 418, code: "undefined", message: "x", data: {} }), "DescribeInstances");
    expect(four).toMatchObject({ code: "HttpError418", errorClass: "terminal" });
  });

  it("an HTML 502 page (SyntaxError from JSON parsing) is InvalidResponse, transient, without the page", () => {
    let parseError: unknown;
    try {
      JSON.parse("<html><body>502 Bad Gateway</body></html>");
    } catch (e) {
      parseError = e;
    }
    const e = toEcsError(parseError, "DescribeInstances");
    expect(e.code).toBe(SyntheticCode.InvalidResponse);
    expect(e.errorClass).toBe("transient");
    expect(e.message).not.toContain("html");
  });

  it("ECONNREFUSED whose message echoes the request URL (with a password) becomes NetworkError without it", () => {
    const raw = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1POST http://127.0.0.1:1/?InstanceId=i-1&Password=Sup3r%2Asecret%21 failed."), {
      code: "ECONNREFUSED",
      errno: -111,
      syscall: "connect",
    });
    const e = toEcsError(raw, "ModifyInstanceAttribute", ["Sup3r*secret!"]);
    expect(e.code).toBe(SyntheticCode.Network);
    expect(e.errorClass).toBe("transient");
    expect(e.message).not.toMatch(/Sup3r|secret/);
  });

  it("RequestTimeoutError is RequestTimeout, transient", () => {
    const raw = Object.assign(new Error("ReadTimeout(10000). POST http://x/?Password=abcdefgh failed."), { name: "RequestTimeoutError" });
    const e = toEcsError(raw, "ModifyInstanceAttribute");
    expect(e.code).toBe(SyntheticCode.Timeout);
    expect(e.errorClass).toBe("transient");
    expect(e.message).not.toContain("abcdefgh");
  });

  it("an ECS message echoing secret values is scrubbed", () => {
    const sdk = new ClientError({
      statusCode: 400,
      code: "InvalidPassword.Malformed",
      message: "code: 400, bad Password=Hunter2Hunter2! request id: R",
      data: { Message: 'The specified parameter "Password" (Hunter2Hunter2!) is not valid. UserData=aGVsbG8gd29ybGQ=' },
    });
    const e = toEcsError(sdk, "ModifyInstanceAttribute", ["Hunter2Hunter2!", "aGVsbG8gd29ybGQ="]);
    expect(e.message).not.toContain("Hunter2");
    expect(e.message).not.toContain("aGVsbG8gd29ybGQ");
    expect(e.message).toContain("***");
    expect(JSON.stringify(e)).not.toContain("Hunter2");
  });

  it("unrecognised throwables are terminal UnexpectedError", () => {
    const e = toEcsError(new RangeError("boom"), "DescribeInstances");
    expect(e.code).toBe(SyntheticCode.Unexpected);
    expect(e.errorClass).toBe("terminal");
  });
});

describe("scrubSecrets", () => {
  it("masks literal secrets in raw and URL-encoded form, and secret-named parameters", () => {
    const out = scrubSecrets("a p@ss w0rd! b p%40ss%20w0rd! c AccessKeySecret=zzz999 d", ["p@ss w0rd!"]);
    expect(out).not.toContain("p@ss");
    expect(out).not.toContain("p%40ss");
    expect(out).not.toContain("zzz999");
  });

  it("drops a URL's query string", () => {
    expect(scrubSecrets("POST https://ecs.x/?A=1&B=2 failed")).toBe("POST https://ecs.x/?*** failed");
  });

  it("bounds the length", () => {
    expect(scrubSecrets("x".repeat(5000)).length).toBeLessThanOrEqual(512);
  });
});

describe("docs/cloud.md", () => {
  it("lists every rule of the classification table with its class", () => {
    const doc = readFileSync(new URL("../../../docs/cloud.md", import.meta.url), "utf8");
    for (const r of CLASSIFICATION_RULES) {
      const m = r.match;
      const token = "exact" in m ? `\`${m.exact}\`` : "prefix" in m ? `\`${m.prefix}*\`` : "suffix" in m ? `\`*${m.suffix}\`` : `contains \`${m.contains}\``;
      const row = doc.split("\n").find((l) => l.startsWith(`| ${token} |`));
      expect(row, `docs/cloud.md has no row for ${token}`).toBeDefined();
      expect(row).toContain(`**${r.messageRule ? r.messageRule.errorClass : r.errorClass}**`);
    }
  });
});
