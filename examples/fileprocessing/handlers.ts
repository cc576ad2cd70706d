/**
 * The file-processing example of Temporal's docs, for tqd: `download` runs on any host and
 * leaves the file on that host's local disk; `process` and `upload` must then run on the same
 * host. Two drivers:
 *
 * - the workflow `fileProcessing` below: one durable function that runs the three steps in a
 *   session (one worker holds it, so all three run on that worker's host) and starts over on a
 *   new session when that host dies:
 *     tqd workflow start fileProcessing '{"name":"a.csv","outDir":"/tmp/out"}' --queue files --wait
 * - run.sh: the same from the shell, sending the host steps to the host queue `download` returned.
 *
 *   tqd work examples/fileprocessing/handlers.ts --queue files [--host NAME]
 *
 * "Local disk" is `$TMPDIR/tqd-fileprocessing/HOST/`, so several workers on one machine with
 * different `--host` names behave like separate hosts. Downloading and uploading are stand-ins
 * (a generated file; a copy into `outDir`), the shape is the real one.
 */
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { defineHandlers, defineWorkflows, NonRetryableError, SessionFailedError, type TaskContext } from "tqd";

/** The host this worker stands for: the HOST of its host queue `files@host:HOST`. */
function hostOf(ctx: TaskContext): string {
  const mark = ctx.hostQueue.lastIndexOf("@host:");
  return ctx.hostQueue.slice(mark + "@host:".length);
}

/** This host's "local disk". */
function localDir(host: string): string {
  return join(tmpdir(), "tqd-fileprocessing", host);
}

/** Reads a file this host should have; a missing one means the task reached the wrong host. */
async function readLocal(path: string, ctx: TaskContext): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    throw new NonRetryableError(`${path} is not on host ${hostOf(ctx)}`, { type: "FileNotOnHost" });
  }
}

export default defineHandlers({
  /** Any host: fetches the file to local disk and says where it is: `{hostQueue, path, host}`. */
  download: async (input: { name: string }, ctx) => {
    if (typeof input?.name !== "string" || !/^[A-Za-z0-9._-]{1,100}$/.test(input.name)) {
      throw new NonRetryableError('expected input like {"name": "report.csv"}', { type: "InvalidInput" });
    }
    const host = hostOf(ctx);
    await mkdir(localDir(host), { recursive: true });
    const path = join(localDir(host), input.name);
    await writeFile(path, `${input.name} downloaded on ${host}\n`);
    // The follow-up steps go to ctx.hostQueue: only workers on this host poll it.
    return { hostQueue: ctx.hostQueue, path, host };
  },

  /** The downloading host only: transforms the file next to it and returns the new path. */
  process: async (input: { path: string }, ctx) => {
    const host = hostOf(ctx);
    const text = await readLocal(input.path, ctx);
    const path = `${input.path}.processed`;
    await writeFile(path, `${text}processed on ${host}\n`);
    return { path, host };
  },

  /** The downloading host only: "uploads" the processed file by copying it into `outDir`. */
  upload: async (input: { path: string; outDir: string }, ctx) => {
    await readLocal(input.path, ctx);
    await mkdir(input.outDir, { recursive: true });
    const uploaded = join(input.outDir, basename(input.path));
    await copyFile(input.path, uploaded);
    return { uploaded, host: hostOf(ctx) };
  },
});

interface FileInput {
  name: string;
  outDir: string;
  /** The queue whose workers run the steps (default "files"). */
  queue?: string;
  /** A dead host is noticed after this long without its heartbeat (default 20s). */
  sessionHeartbeat?: string;
  /** Hosts to try before giving up (default 5). */
  maxTries?: number;
}

export const workflows = defineWorkflows({
  /**
   * Download, process and upload one file on one host. The session pins all three steps to the
   * worker that took it; if that worker dies, the session fails (after `sessionHeartbeat`), its
   * pending step is canceled, and the file starts over on a new session, at most `maxTries` times.
   */
  fileProcessing: async (ctx, input: FileInput) => {
    const queue = input.queue ?? "files";
    const maxTries = input.maxTries ?? 5;
    const failures: string[] = [];
    for (let attempt = 1; attempt <= maxTries; attempt++) {
      const session = await ctx.createSession({ queue, heartbeatTimeout: input.sessionHeartbeat ?? "20s" });
      try {
        const downloaded = await session.activity<{ path: string; host: string }>("download", { name: input.name }, { startToCloseTimeout: "1m" });
        const processed = await session.activity<{ path: string; host: string }>("process", { path: downloaded.path }, { startToCloseTimeout: "1m" });
        const uploaded = await session.activity<{ uploaded: string; host: string }>("upload", { path: processed.path, outDir: input.outDir }, { startToCloseTimeout: "1m" });
        session.complete();
        return { ...uploaded, hosts: [downloaded.host, processed.host, uploaded.host], attempts: attempt };
      } catch (error) {
        if (!(error instanceof SessionFailedError)) throw error;
        failures.push(`${session.worker}: ${error.message}`);
      }
    }
    throw new Error(`${input.name}: every session failed (${failures.join("; ")})`);
  },
});
