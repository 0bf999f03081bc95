// Public surface of the ECS access layer (see docs/cloud.md).
export { EcsCloud, DEFAULT_RATE, toSdkModifyRequest, type EcsCloudOptions, type EcsTarget } from "./ecs.js";
export {
  EcsClientPool,
  DEFAULT_CREDENTIALS,
  buildUserAgent,
  credentialsIdentity,
  parseEndpoint,
  type EcsCredentials,
  type ClientPoolOptions,
} from "./client.js";
export {
  EcsError,
  CLASSIFICATION_RULES,
  ERROR_CLASSES,
  SyntheticCode,
  classifyCode,
  isRetryableClass,
  scrubSecrets,
  toEcsError,
  type ErrorClass,
} from "./errors.js";
export { RateLimiter, RateLimitWaitError, nextMinuteBoundary, type RateSpec, type RateLimiterOptions, type BucketKey } from "./rate-limit.js";
export { withRetry, DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";
export { createEcsMetrics, REQUESTS_TOTAL, REQUEST_DURATION, type EcsMetrics } from "./metrics.js";
export {
  modifyFields,
  normaliseInstance,
  type InstanceStatus,
  type ModifyRequest,
  type ObservedInstance,
  type OsType,
  type PrivateDnsNameOptions,
  type ReadExtras,
} from "./model.js";
