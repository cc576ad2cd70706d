/** Fails a test that leaves an in-process server running (every test must dispose of its servers). */
import { afterEach, expect } from "vitest";
import { liveTestServers } from "./live-servers.ts";

afterEach(() => {
  const leaked = [...liveTestServers].map((server) => server.url);
  liveTestServers.clear();
  expect(leaked, "test servers left running").toEqual([]);
});
