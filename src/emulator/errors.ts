/**
 * ECS error table: code → HTTP status → wire message.
 *
 * Statuses and messages come from the ModifyInstanceAttribute API page (the seed table) and the
 * common-code table of the ECS reference (§4). `%s` placeholders in the official table are filled
 * with a concrete explanation by the rule that raises the error.
 */

export interface ErrorSpec {
  readonly status: number;
  readonly message: string;
  /**
   * Used instead of `message` when the rule names the offending parameter: `%s` is the parameter
   * name. The wording follows the table's `*.Malformed` messages; ECS's exact text is not documented.
   */
  readonly messageWithParameter?: string;
}

export const ERROR_TABLE = {
  // --- ModifyInstanceAttribute (API page) ---
  "InvalidInstanceName.Malformed": { status: 400, message: 'The specified parameter "InstanceName" is not valid.' },
  "InvalidDescription.Malformed": { status: 400, message: 'The specified parameter "Description" is not valid.' },
  "InvalidHostPassword.Malformed": { status: 400, message: 'The specified parameter "Password" is not valid.' },
  "InvalidHostName.Malformed": { status: 400, message: 'The specified parameter "HostName" is not valid.' },
  "InvalidPassword.Malformed": { status: 400, message: 'The specified parameter "Password" is not valid.' },
  "InvalidUserData.SizeExceeded": { status: 400, message: 'The specified parameter "UserData" exceeds the size.' },
  "InvalidUserData.NotSupported": {
    status: 400,
    message: 'TThe specified parameter "UserData" only support the vpc and IoOptimized Instance.',
  },
  ImageNotSupportCloudInit: { status: 400, message: "The specified image does not support cloud-init." },
  "OSType.ValueNotSupported": { status: 400, message: "The OS type is not supported." },
  "InvalidParameter.RecycleBin": { status: 400, message: "You do not have permission to set recyclable properties." },
  "InvalidParameter.CreditSpecification": {
    status: 400,
    message: "The specified CreditSpecification is not supported in this region.",
  },
  "InvalidInstanceStatus.CreditSpecRestricted": {
    status: 400,
    message: "The current status of the resource does not support this operation.",
  },
  "InvalidNetworkType.NotSupported": {
    status: 400,
    message: "The classic networkType does not support to modify security group",
  },
  "InvalidOperation.EniCountExceeded": {
    status: 400,
    message: "=The maximum number of eni in a enterprise security group is exceeded.",
  },
  JoinedGroupLimitExceed: { status: 400, message: "%s" },
  InvalidParameter: {
    status: 400,
    message: "The specified parameter is not valid.",
    messageWithParameter: 'The specified parameter "%s" is not valid.',
  },
  "InvalidParam.NotSupportJumboFrame": { status: 400, message: "Not support jumbo frame." },
  "InvalidOperation.InstanceStatusNotSupport": {
    status: 400,
    message: "The instance status is not support modify mtu config.",
  },
  "InvalidOperation.InstanceStatusUnsupported": {
    status: 400,
    message: "The specified instance status does not support modification of cpu topology type.",
  },
  "InvalidParameter.CpuOptionsTopologyType": {
    status: 400,
    message: "The specified parameter CpuOptions.TopologyType: %s is not valid.",
  },
  "InvalidInstanceType.NotSupportCpuOptionsTopologyType": {
    status: 400,
    message: "The specified instance type does not support CpuOptions.TopologyType: %s.",
  },
  "InvalidStatus.StoppedRequired": {
    status: 400,
    message: "The current state of the resource does not support this operation, it can only be operated in a stopped state.",
  },
  "InvalidParameter.CpuOptionsNestedVirtualization": {
    status: 400,
    message: "The specified parameter CpuOptions.NestedVirtualization: %s is not valid.",
  },
  "InvalidInstanceType.NotSupportCpuOptionsNestedVirtualization": {
    status: 400,
    message: "The specified instance type does not support CpuOptions.NestedVirtualization: %s.",
  },
  // Codes of the API page that no modelled rule raises; listed so that a fault naming them gets the
  // page's HTTP status and message (issue 19 item 4: seven 403 codes came back as 400).
  "InvalidRemoteConnectionOptions.Password": { status: 400, message: "The remote connection password is invalid." },
  "InvalidRemoteConnectionOptions.Type": { status: 400, message: "The remote connection type is invalid." },
  "InstanceType.ValueNotSupported": { status: 400, message: "The instance type not supported." },
  ChargeTypeViolation: { status: 400, message: "Pay-As-You-Go instances do not support this operation." },
  "InvalidInstanceStatus.NotRunning": {
    status: 400,
    message: "The current status of the resource is invalid, you can only do this operation when instance is running.",
  },
  "InvalidOperation.InvalidEcsState": { status: 400, message: "%s" },
  "InvalidAdditionalInfoPvdConfig.SizeExceeded": {
    status: 400,
    message: "The specified parameter AdditionalInfo.PvdConfig exceeds the size.",
  },
  "InvalidInstanceType.NotSupportHighDensityMode": {
    status: 400,
    message: "The specified instance type does not support the use of the high density mode.",
  },
  "InvalidParameter.CpuOptionsTurboMode": { status: 400, message: "The specified parameter TurboMode is not valid." },
  "InvalidInstanceType.EnableNVSUnsupported": { status: 400, message: "The specified instance type does not support EnableNVS." },
  "InvalidInstanceType.EnableVISSTUnsupported": {
    status: 400,
    message: "The specified instance type does not support EnableVISST.",
  },
  "InvalidInstanceType.EnableVRDTUnsupported": {
    status: 400,
    message: "The specified instance type does not support EnableVRDT.",
  },
  "InvalidInstanceType.SingleCoreMaxModeUnsupported": {
    status: 400,
    message: 'The specified instance type does not support TurboMode: "SINGLE CORE MAX".',
  },
  "InvalidInstanceType.GpuOptionsConfidentialComputingUnsupported": {
    status: 400,
    message: "The specified instance type does not support the confidential computing mode.",
  },
  "InvalidParameter.GpuOptionsConfidentialComputing": {
    status: 400,
    message: "The specified parameter confidential computing mode is not valid.",
  },
  "InvalidParameterAuthorized.GpuOptionsConfidentialComputing": {
    status: 400,
    message: "The specified parameter confidential computing mode is unauthorized.",
  },
  "InvalidUser.Unauthorized": { status: 403, message: "The user is not authorized" },
  SecurityGroupInstanceLimitExceed: { status: 403, message: "%s" },
  InstanceNotInSecurityGroup: { status: 403, message: "The instance not in the group." },
  "InvalidOperation.InstanceTypeNotSupportHighPerformanceTrafficMode": { status: 403, message: "%s" },
  "InvalidParameter.InvalidQueuePairNumber": { status: 403, message: "%s" },
  "InvalidOperation.MaxEniQueuePairNumberExceed": { status: 403, message: "%s" },
  "InvalidOperation.EniQueuePairNumberOverflow": { status: 403, message: "%s" },
  InternalError: { status: 500, message: "The request processing has failed due to some unknown error." },
  IncorrectInstanceStatus: { status: 403, message: "The current status of the resource does not support this operation." },
  InstanceLockedForSecurity: {
    status: 403,
    message: "The specified operation is denied as your instance is locked for security reasons.",
  },
  OperationDenied: { status: 403, message: "The instance amount in the specified SecurityGroup reach its limit." },
  "InvalidUserData.Forbidden": {
    status: 403,
    message: 'User not authorized to input the parameter "UserData"please apply for permission "UserData"',
  },
  "InvalidUserData.Base64FormatInvalid": { status: 403, message: "The specified UserData is not valid" },
  "InvalidChargeType.ValueNotSupported": {
    status: 403,
    message: "Deletion protection is only valid for postPaid instance, not for prePaid or spot instance.",
  },
  "EnterpriseGroupLimited.MutliGroupType": {
    status: 403,
    message: "The specified instance can not join multi SecurityGroup types.",
  },
  "InvalidOperation.InvalidRegion": { status: 403, message: "%s" },
  "InvalidOperation.ResourceManagedByCloudProduct": { status: 403, message: "%s" },
  "InvalidParameter.InvalidEniQueueNumber": { status: 403, message: "%s" },
  "InvalidOperation.MaxEniQueueNumberExceeded": { status: 403, message: "%s" },
  "InvalidOperation.ExceedInstanceTypeQueueNumber": { status: 403, message: "%s" },
  AclLimitExceed: { status: 403, message: "%s" },
  "InvalidInstanceType.CpuOptionsThreadsPerCoreUnsupported": {
    status: 403,
    message: "The current instance type does not support setting or modifying the CpuOptions.ThreadsPerCore parameter.",
  },
  "InvalidParameter.CpuOptionsCore": { status: 403, message: "The specified parameter CpuOptions.Core is not valid." },
  "InvalidParameter.CpuOptionsThreadsPerCore": {
    status: 403,
    message: "The specified parameter CpuOptions.ThreadsPerCore is not valid.",
  },
  "InvalidOperation.UserNotSupportNetworkEncryption": { status: 403, message: "User not support network encryption." },
  "InvalidOperation.InstanceTypeNotSupportNetworkEncryption": {
    status: 403,
    message: "The specified instance type does not support network encryption.",
  },
  "InvalidInstanceId.NotFound": { status: 404, message: "The specified InstanceId does not exist." },
  "InvalidSecurityGroupId.NotFound": { status: 404, message: "The specified SecurityGroupId does not exist." },
  "Credit.NotFound": { status: 404, message: "The specified credit information does not exist." },
  "InvalidInstanceStatus.NeedRestart": {
    status: 404,
    message: "The current status of the resource is invalid, you can only do this operation after instance is restarted.",
  },
  "InvalidParameter.SecurityGroupIdRepeated": { status: 404, message: "The specified security group ids has repeated." },
  "InvalidSecurityGroupType.NotSupportClassic": {
    status: 404,
    message: "The specified SecurityGroupIds have classic group type.",
  },
  "InvalidSecurityGroupVpc.NotBelongToOneVpc": {
    status: 404,
    message: "The specified SecurityGroupIds are belong to different vpc.",
  },

  // --- common codes (every ECS API) ---
  MissingParameter: {
    status: 400,
    message: 'The input parameter "%s" that is mandatory for processing this request is not supplied.',
  },
  "InvalidAction.NotFound": { status: 404, message: "Specified api is not found, please check your url and method." },
  "InvalidAccessKeyId.NotFound": { status: 404, message: "Specified access key is not found." },
  IncompleteSignature: { status: 400, message: "The request signature does not conform to Aliyun standards." },
  SignatureDoesNotMatch: { status: 400, message: "Specified signature is not matched with our calculation." },
  SignatureNonceUsed: { status: 400, message: "Specified signature nonce was used already." },
  IllegalTimestamp: {
    status: 400,
    message: 'The input parameter "Timestamp" that is mandatory for processing this request is not supplied or is expired.',
  },
  "InvalidSecurityToken.MismatchWithAccessKey": {
    status: 400,
    message: "Specified security token mismatch with the access key.",
  },
  "InvalidSecurityToken.Expired": { status: 400, message: "Specified security token is expired." },
  "InvalidRegionId.NotFound": { status: 404, message: "The specified RegionId does not exist." },
  DryRunOperation: { status: 400, message: "Request validation has been passed with DryRun flag set." },
  Throttling: { status: 400, message: "Request was denied due to request throttling." },
  "Throttling.User": { status: 400, message: "Request was denied due to user flow control." },
  "Throttling.Api": { status: 400, message: "Request was denied due to api flow control." },
  ServiceUnavailable: { status: 503, message: "The request has failed due to a temporary failure of the server." },
  UnknownError: { status: 400, message: "The request processing has failed due to some unknown error." },
  // --- RAM (every ECS API; ecs-api.md §4.2 lists Forbidden.RAM as a 403 common code) ---
  "Forbidden.RAM": {
    status: 403,
    message: "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
  },
  "InvalidAccessKeyId.Inactive": { status: 400, message: "Specified access key is disabled." },

  // --- STS 2015-04-01 (docs/emulator.md "STS and RAM" gives the source of each) ---
  NoPermission: { status: 403, message: "%s" },
  "EntityNotExist.Role": { status: 404, message: "The specified Role not exists: %s" },
  "EntityNotExist.OIDCProvider": { status: 404, message: "The specified OIDC provider not exists: %s" },
  "InvalidParameter.DurationSeconds": { status: 400, message: "The Min/Max value of DurationSeconds is 15min/%s." },
  "InvalidParameter.RoleSessionName": { status: 400, message: "The parameter RoleSessionName is wrongly formed." },
  "InvalidParameter.RoleArn": { status: 400, message: "The parameter RoleArn is wrongly formed." },
  "AuthenticationFail.OIDCToken.Expired": { status: 400, message: "This JsonWebToken is expired." },
  "AuthenticationFail.OIDCToken.Invalid": { status: 400, message: "%s" },
  OperationConflict: {
    status: 409,
    message: "Request was denied due to conflict with a previous request, please try again later.",
  },
} as const satisfies Record<string, ErrorSpec>;

export type KnownErrorCode = keyof typeof ERROR_TABLE;

/** An ECS API error as it goes on the wire. */
export class EcsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: string, status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "EcsError";
    this.code = code;
    this.status = status;
    this.headers = headers;
  }
}

/** Builds the error for a known code; `detail` fills a `%s` placeholder (or replaces a `%s`-only message). */
export function ecsError(code: KnownErrorCode, detail?: string, headers?: Record<string, string>): EcsError {
  const spec: ErrorSpec = ERROR_TABLE[code];
  let message = spec.message;
  if (spec.message.includes("%s")) message = spec.message.replace("%s", detail ?? code);
  else if (detail !== undefined && spec.messageWithParameter) message = spec.messageWithParameter.replace("%s", detail);
  return new EcsError(code, spec.status, message, headers);
}

/** Builds an error for any code, known or not (fault injection may name codes outside the table). */
export function errorForCode(code: string, status?: number, message?: string): EcsError {
  const spec = (ERROR_TABLE as Record<string, ErrorSpec>)[code];
  return new EcsError(code, status ?? spec?.status ?? 400, message ?? (spec ? spec.message.replace("%s", code) : `Injected fault: ${code}`));
}
