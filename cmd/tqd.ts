/**
 * The `tqd` executable: one table of subcommands, each a function of (args, io) that returns an
 * exit code. Nothing runs at import; the entry guard at the bottom wires the real process. A
 * command's module is loaded only when it runs, so the process that `tqd serve` replaces at
 * once (allocator-settings.ts) has loaded next to nothing, and an admin command no daemon.
 */
import { reexecWithAllocatorSettings } from "./allocator-settings.ts";
import { EXIT, processIo, type CliIo } from "./io.ts";
import { versionLine } from "./version-info.ts";

/** A command's module, loaded when the command runs: `tqd enqueue` never loads the daemon. */
interface CommandModule {
  run(args: readonly string[], io: CliIo): Promise<number>;
}

type Subcommand = { summary: string } & ({ load(): Promise<CommandModule> } | CommandModule);

const SUBCOMMANDS: Record<string, Subcommand> = {
  serve: { summary: "run the daemon (HTTP API + SQLite store)", load: () => import("./serve.ts") },
  work: { summary: "run a worker: a handlers module or --exec 'shell command'", load: () => import("./work.ts") },
  enqueue: { summary: "add a task to a queue (optionally wait for its result)", load: () => import("./admin/enqueue.ts") },
  get: { summary: "show a task", load: () => import("./admin/get.ts") },
  wait: { summary: "wait for a task to finish and print its result", load: () => import("./admin/wait.ts") },
  cancel: { summary: "cancel a task (at once, or ask its worker to stop if it is running)", load: () => import("./admin/cancel.ts") },
  complete: { summary: "complete a task handed back by ctx.completeLater(), given its token", load: () => import("./admin/complete.ts") },
  fail: { summary: "fail the attempt of a task handed back by ctx.completeLater()", load: () => import("./admin/fail.ts") },
  explain: { summary: "say what a task (or a workflow) that is not running waits for", load: () => import("./admin/explain.ts") },
  queues: { summary: "list queues with counts by state (--prefix to filter)", load: () => import("./admin/queues.ts") },
  describe: { summary: "show a queue: counts, backlog, rates, limit, pollers, fairness keys", load: () => import("./admin/describe.ts") },
  limit: { summary: "set or clear a queue's dispatch rate limit (--rate 50/s [--burst N] | --clear)", load: () => import("./admin/limit.ts") },
  pause: { summary: "stop dispatching a queue's tasks (it still accepts new ones)", load: () => import("./admin/pause.ts") },
  resume: { summary: "dispatch a paused queue's tasks again", load: () => import("./admin/resume.ts") },
  fairness: { summary: "set a fairness key's weight and rate limit within a queue", load: () => import("./admin/fairness.ts") },
  dead: { summary: "dead-letter tasks of a queue: dead ls | requeue | purge", load: () => import("./admin/dead.ts") },
  route: { summary: "traffic-routing rules of a queue: route add | ls | rm | test | history | rollback", load: () => import("./admin/route.ts") },
  workflow: { summary: "durable workflows: workflow start | describe | history | wait | cancel | signal | ls", load: () => import("./admin/workflow.ts") },
  version: { summary: "print the version and git commit", run: async (_args, io) => (io.stdout.write(versionLine() + "\n"), EXIT.ok) },
};

/** Runs the subcommand named by `argv[0]`. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(helpText());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-V") return runCommand(SUBCOMMANDS.version!, [], io);
  const command = SUBCOMMANDS[name];
  if (!command) {
    io.stderr.write(`error: unknown command '${name}' (see 'tqd help')\n`);
    return EXIT.usage;
  }
  return runCommand(command, rest, io);
}

async function runCommand(command: Subcommand, args: readonly string[], io: CliIo): Promise<number> {
  const module = "load" in command ? await command.load() : command;
  return module.run(args, io);
}

function helpText(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((name) => name.length));
  const lines = Object.entries(SUBCOMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return [
    "tqd: a durable task-queue daemon and its workers, in one executable",
    "",
    "usage: tqd <command> [options]   (tqd <command> --help for its options)",
    "",
    "commands:",
    ...lines,
    "",
    "environment: TQD_SERVER, TQD_TOKEN (clients); TQD_LISTEN, TQD_DATA, TQD_TOKEN (serve)",
    "exit codes: 0 ok, 1 task failed/canceled/timed out or request refused, 2 usage error, 3 server unreachable, 4 wait timed out",
    "",
    "examples:",
    "  tqd serve --data ./tqd-data",
    "  tqd work examples/hello/handlers.ts --queue hello",
    "  tqd enqueue hello greet '{\"name\":\"Ada\"}' --wait",
    "  tqd enqueue emails send --delay 10m --retries 3 --backoff 1s,2,1m",
    "  tqd dead ls emails",
    "  tqd describe emails",
    "  tqd limit emails --rate 50/s",
    "  tqd route add images --to images-canary --percent 5",
    "  tqd workflow start fileProcessing '{\"name\":\"a.csv\"}' --queue files --wait",
    "",
  ].join("\n");
}

if (import.meta.main) {
  // The daemon starts over once under its allocator settings (see allocator-settings.ts).
  if (process.argv[2] === "serve") reexecWithAllocatorSettings();
  // The daemon and a worker keep serving when their log's reader goes away (see io.ts).
  const longRunning = process.argv[2] === "serve" || process.argv[2] === "work";
  void main(process.argv.slice(2), processIo(longRunning ? "drop" : "exit")).then((code) => {
    process.exitCode = code;
  });
}
