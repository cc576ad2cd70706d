/** `tqd resume QUEUE [--json]`: dispatches a paused queue's tasks again (see pause.ts). */
import type { CliIo } from "../io.ts";
import { runPauseCommand } from "./pause.ts";

export function run(args: readonly string[], io: CliIo): Promise<number> {
  return runPauseCommand("resume", args, io);
}
