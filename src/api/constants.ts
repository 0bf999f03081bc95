/**
 * Names and limits of the EcsInstanceAttributes API (docs/api.md; the names are a contract).
 * Everything here is a plain constant so the reconciler, the CRD generator and the docs agree.
 */

/** API group of every resource this project defines. */
export const GROUP = "ecs.alicloud.dev";
/** The only served (and storage) version. */
export const VERSION = "v1alpha1";
/** `apiVersion` field value of an EcsInstanceAttributes object. */
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "EcsInstanceAttributes";
export const LIST_KIND = "EcsInstanceAttributesList";
export const PLURAL = "ecsinstanceattributes";
export const SINGULAR = "ecsinstanceattributes";
export const SHORT_NAMES = ["ecsattrs", "eia"] as const;
/** `metadata.name` of the CustomResourceDefinition. */
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** Annotation that stops every ECS call for one resource while its value is exactly "true". */
export const PAUSED_ANNOTATION = `${GROUP}/paused`;

/**
 * Upper bound on `spec.securityGroupIds` (admission time).
 *
 * Source: the ModifyInstanceAttribute API page, `SecurityGroupIds.N` (docs/api.md): "N is capped by the per-instance/ENI quota, 5 by default,
 * raisable to 10 or 16 by ticket (`JoinedGroupLimitExceed` beyond it)". 16 is the largest documented
 * value, so admission accepts up to 16; an account still on a smaller quota gets ECS's
 * `JoinedGroupLimitExceed`, which the controller reports as a terminal error.
 */
export const MAX_SECURITY_GROUPS_PER_INSTANCE = 16;
/**
 * Largest raw (decoded) user data ECS accepts: 32 KB before Base64 encoding.
 * Source: the ModifyInstanceAttribute API page, `UserData` (docs/api.md) (SDK doc and the current API page; the 2021 docs said 16 KB).
 */
export const MAX_USER_DATA_BYTES = 32 * 1024;
/** Longest Base64 text that can decode to at most MAX_USER_DATA_BYTES (padded encoding). */
export const MAX_USER_DATA_BASE64_LENGTH = Math.ceil(MAX_USER_DATA_BYTES / 3) * 4;

/** Value of `spec.managementPolicy` when omitted. */
export const DEFAULT_MANAGEMENT_POLICY = "Apply";

/** metav1.Condition `reason` pattern (apimachinery types.go). */
export const CONDITION_REASON_PATTERN = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$";
export const CONDITION_REASON_MAX_LENGTH = 1024;
/** metav1.Condition `type` pattern. */
export const CONDITION_TYPE_PATTERN = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$";
export const CONDITION_TYPE_MAX_LENGTH = 316;
export const CONDITION_MESSAGE_MAX_LENGTH = 32768;
