/**
 * The registry of in-process servers not yet disposed of. Kept free of imports on purpose: the
 * vitest setup file loads it, and importing zod from a setup file breaks zod's module
 * initialisation for the whole run under vitest on Bun.
 */
export const liveTestServers = new Set<{ url: string }>();
