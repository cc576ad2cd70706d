/**
 * The file-processing example of Temporal's docs, for tqd: `download` runs on any host and
 * leaves the file on that host's local disk; `process` and `upload` must then run on the same
 * host, so the driver (run.sh) sends them to the host queue `download` returned.
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
import { defineHandlers, NonRetryableError, type TaskContext } from "tqd";

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
