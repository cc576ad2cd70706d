/** Configuration schemas and their layered, pure resolution. */
export { ConfigError } from "./config-error.ts";
export * from "./parse-values.ts";
export * from "./serve-config.ts";
export * from "./client-config.ts";
export * from "./work-config.ts";
