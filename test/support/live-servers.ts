/** The registry of in-process servers not yet disposed of; the vitest setup file checks it. */
export const liveTestServers = new Set<{ url: string }>();
