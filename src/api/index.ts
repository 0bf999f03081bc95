/**
 * The EcsInstanceAttributes API (group ecs.alicloud.dev, version v1alpha1): schemas and inferred
 * types, value rules, condition helpers, constants and the CRD builder.
 */
export * from "./constants.js";
export * from "./rules.js";
export * from "./spec.js";
export * from "./status.js";
export * from "./conditions.js";
export * from "./validate.js";
export { buildCrd, renderCrdYaml, toStructural, zodToOpenApi, assertRe2Compatible } from "./crd.js";
