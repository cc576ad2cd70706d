/**
 * The daemon's allocator settings, applied by replacing the process image once at start.
 *
 * Bun allocates with mimalloc 3, which gives freed memory back to the OS 100 ms after it was
 * freed (`purge_delay`) and also purges free holes inside pages in use (`purge_holes`). The
 * daemon frees and reuses memory at a steady churn (each request's body and parsed tasks, each
 * commit's rows, each collection's garbage), so under load it kept handing pages back and
 * faulting them in again: an `madvise` every 13 tasks of a drain, and about 0.8 page faults a
 * task. Keeping freed memory for a second took the daemon's CPU per task down 6-22 % in W1's
 * first round in 12 of 14 interleaved pairs (bench/NOTES.md, "Allocator settings"); memory unused for a
 * second still goes back, so a drained or idle daemon shrinks as before. The holes are still
 * purged: leaving them kept a settled backlog of 1,000,000 tasks at 413 MiB instead of 272.
 *
 * mimalloc reads its options from the environment once, as the process starts, so nothing the
 * daemon does later can change them: `tqd serve` calls `execve` on its own executable with its
 * own arguments and the settings added to its environment, before it opens anything. The pid,
 * open descriptors, working directory and arguments stay; only the image is new. A setting the
 * operator already gave (`MIMALLOC_PURGE_DELAY=100`, say) is kept, and once every setting is
 * present nothing is replaced again. Linux only (it reads `/proc/self`); anywhere the call is
 * not available the daemon runs on with the allocator's defaults.
 */
import { readFileSync } from "node:fs";

export const DAEMON_ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MIMALLOC_PURGE_DELAY: "1000",
};

/** The settings this environment lacks; empty when nothing needs to change. */
export function missingAllocatorSettings(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const missing: Record<string, string> = {};
  for (const [key, value] of Object.entries(DAEMON_ALLOCATOR_ENV)) if (env[key] === undefined) missing[key] = value;
  return missing;
}

/**
 * Replaces the process with itself under the daemon's allocator settings; returns only when it
 * did not (nothing missing, not Linux, or the call failed). The daemon logs the settings it runs
 * without (see serve.ts), so a failure here needs no output of its own.
 */
export function reexecWithAllocatorSettings(): void {
  const missing = missingAllocatorSettings(process.env);
  if (Object.keys(missing).length === 0 || process.platform !== "linux" || process.execve === undefined) return;
  try {
    // The arguments as the process got them, its own name included (process.argv holds the
    // runtime's view: "bun" and the bundle's path in a compiled binary).
    const argv = readFileSync("/proc/self/cmdline", "utf8").split("\0").slice(0, -1);
    const env = { ...process.env, ...missing };
    // Bytes that are not UTF-8 (a path, say) would reach the new image altered: keep this one.
    if ([...argv, ...Object.values(env)].some((text) => text?.includes("\uFFFD"))) return;
    process.execve(process.execPath, argv, env);
  } catch {
    // Runs on with the allocator's defaults.
  }
}
