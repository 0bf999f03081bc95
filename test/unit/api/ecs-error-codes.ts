/**
 * Every error code in ecs-api.md §4 (4.1 ModifyInstanceAttribute, 4.2 common codes, the throttling
 * codes seen in practice, 4.3 messages) plus the extra codes named in §7 (classification). Data, not
 * logic: the reason-mapping test runs over all of them, and a second test checks this list still
 * covers the reference when the reference is available.
 */
export const ECS_ERROR_CODES = [
  // 4.1, 400, class X
  "InvalidInstanceName.Malformed", "InvalidDescription.Malformed", "InvalidHostName.Malformed", "InvalidPassword.Malformed",
  "InvalidHostPassword.Malformed", "InvalidUserData.SizeExceeded", "InvalidUserData.NotSupported", "ImageNotSupportCloudInit",
  "InvalidParameter", "InvalidParameter.CreditSpecification", "InvalidParameter.RecycleBin", "InvalidParameter.CpuOptionsTopologyType",
  "InvalidParameter.CpuOptionsTurboMode", "InvalidRemoteConnectionOptions.Password", "InvalidRemoteConnectionOptions.Type",
  "InstanceType.ValueNotSupported", "OSType.ValueNotSupported", "ChargeTypeViolation", "InvalidNetworkType.NotSupported",
  "InvalidParam.NotSupportJumboFrame", "InvalidInstanceType.NotSupportCpuOptionsTopologyType", "InvalidInstanceType.NotSupportHighDensityMode",
  "InvalidInstanceType.EnableNVSUnsupported", "InvalidInstanceType.EnableVISSTUnsupported", "InvalidInstanceType.EnableVRDTUnsupported",
  "InvalidInstanceType.SingleCoreMaxModeUnsupported", "InvalidAdditionalInfoPvdConfig.SizeExceeded",
  "InvalidParameter.CpuOptionsNestedVirtualization", "InvalidInstanceType.NotSupportCpuOptionsNestedVirtualization",
  "InvalidInstanceType.GpuOptionsConfidentialComputingUnsupported", "InvalidParameter.GpuOptionsConfidentialComputing",
  "InvalidParameterAuthorized.GpuOptionsConfidentialComputing", "InvalidOperation.EniCountExceeded", "JoinedGroupLimitExceed",
  // 4.1, wait for state
  "InvalidStatus.StoppedRequired", "InvalidInstanceStatus.NotRunning", "InvalidOperation.InvalidEcsState",
  "InvalidOperation.InstanceStatusNotSupport", "InvalidOperation.InstanceStatusUnsupported", "InvalidInstanceStatus.CreditSpecRestricted",
  "IncorrectInstanceStatus", "InstanceLockedForSecurity", "OperationDenied",
  // 4.1, 403 class X
  "InvalidUserData.Forbidden", "InvalidUserData.Base64FormatInvalid", "InvalidChargeType.ValueNotSupported", "InvalidUser.Unauthorized",
  "EnterpriseGroupLimited.MutliGroupType", "SecurityGroupInstanceLimitExceed", "InstanceNotInSecurityGroup", "InvalidOperation.InvalidRegion",
  "InvalidOperation.ResourceManagedByCloudProduct", "AclLimitExceed", "InvalidParameter.InvalidEniQueueNumber",
  "InvalidOperation.MaxEniQueueNumberExceeded", "InvalidOperation.ExceedInstanceTypeQueueNumber",
  "InvalidOperation.InstanceTypeNotSupportHighPerformanceTrafficMode", "InvalidParameter.InvalidQueuePairNumber",
  "InvalidOperation.MaxEniQueuePairNumberExceed", "InvalidOperation.EniQueuePairNumberOverflow",
  "InvalidInstanceType.CpuOptionsThreadsPerCoreUnsupported", "InvalidParameter.CpuOptionsCore", "InvalidParameter.CpuOptionsThreadsPerCore",
  "InvalidOperation.UserNotSupportNetworkEncryption", "InvalidOperation.InstanceTypeNotSupportNetworkEncryption",
  // 4.1, 404 / 500
  "InvalidInstanceId.NotFound", "InvalidSecurityGroupId.NotFound", "InvalidParameter.SecurityGroupIdRepeated",
  "InvalidSecurityGroupType.NotSupportClassic", "InvalidSecurityGroupVpc.NotBelongToOneVpc", "Credit.NotFound",
  "InvalidInstanceStatus.NeedRestart", "InternalError",
  // 4.2 common codes
  "IdempotentParameterMismatch", "IllegalTimestamp", "IncompleteSignature", "InvalidAccessKeyId.NotFound", "MissingParameter",
  "SignatureNonceUsed", "Throttling", "UnsupportedParameter", "UnknownError", "Forbidden.RAM", "Forbidden.Unauthorized",
  "Forbidden.AccessKeyDisabled", "Forbidden.RiskControl", "InvalidAction", "LastTokenProcessing", "RealNameAuthenticationError",
  "InvalidRegionId.NotFound", "OperationConflict", "ServiceUnavailable", "ServiceUnavailable.RegionMaintaining",
  // throttling and signature codes seen in practice
  "Throttling.User", "Throttling.Api", "Throttling.ConcurrentLimitExceeded", "SignatureDoesNotMatch",
  // §7 extras
  "InvalidOperation.Conflict", "Rejected.Throttling",
] as const;
