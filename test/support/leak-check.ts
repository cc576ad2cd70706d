/**
 * Fails a test that leaves an in-process server or a `dist/tqd` child running (every test must
 * dispose of them), and kills such children, so none outlives the run.
 */
import { afterEach, expect } from "vitest";
import { liveTestServers } from "./live-servers.ts";
import { liveTqdProcesses } from "./tqd-process.ts";

afterEach(async () => {
  const leaked = [...liveTestServers].map((server) => server.url);
  liveTestServers.clear();
  const children = [...liveTqdProcesses];
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(children.map((child) => child.exited));
  expect(leaked, "test servers left running").toEqual([]);
  expect(children.map((child) => child.child.spawnargs.slice(1, 3).join(" ")), "tqd processes left running").toEqual([]);
});
