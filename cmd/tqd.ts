/**
 * The `tqd` executable: one table of subcommands, each a function of (args, io) that returns an
 * exit code. Nothing runs at import; the entry guard at the bottom wires the real process.
 */
import { EXIT, processIo, type CliIo } from "./io.ts";
import { versionLine } from "./version-info.ts";
import * as serve from "./serve.ts";
import * as work from "./work.ts";
import * as enqueue from "./admin/enqueue.ts";
import * as get from "./admin/get.ts";
import * as wait from "./admin/wait.ts";
import * as queues from "./admin/queues.ts";
import * as cancel from "./admin/cancel.ts";
import * as dead from "./admin/dead.ts";
import * as complete from "./admin/complete.ts";
import * as fail from "./admin/fail.ts";
import * as describeQueue from "./admin/describe.ts";
import * as explain from "./admin/explain.ts";
import * as limit from "./admin/limit.ts";
import * as pause from "./admin/pause.ts";
import * as resume from "./admin/resume.ts";
import * as fairness from "./admin/fairness.ts";
import * as route from "./admin/route.ts";
import * as workflow from "./admin/workflow.ts";

interface Subcommand {
  summary: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  serve: { summary: "run the daemon (HTTP API + SQLite store)", run: serve.run },
  work: { summary: "run a worker: a handlers module or --exec 'shell command'", run: work.run },
  enqueue: { summary: "add a task to a queue (optionally wait for its result)", run: enqueue.run },
  get: { summary: "show a task", run: get.run },
  wait: { summary: "wait for a task to finish and print its result", run: wait.run },
  cancel: { summary: "cancel a task (at once, or ask its worker to stop if it is running)", run: cancel.run },
  complete: { summary: "complete a task handed back by ctx.completeLater(), given its token", run: complete.run },
  fail: { summary: "fail the attempt of a task handed back by ctx.completeLater()", run: fail.run },
  explain: { summary: "say what a task (or a workflow) that is not running waits for", run: explain.run },
  queues: { summary: "list queues with counts by state (--prefix to filter)", run: queues.run },
  describe: { summary: "show a queue: counts, backlog, rates, limit, pollers, fairness keys", run: describeQueue.run },
  limit: { summary: "set or clear a queue's dispatch rate limit (--rate 50/s [--burst N] | --clear)", run: limit.run },
  pause: { summary: "stop dispatching a queue's tasks (it still accepts new ones)", run: pause.run },
  resume: { summary: "dispatch a paused queue's tasks again", run: resume.run },
  fairness: { summary: "set a fairness key's weight and rate limit within a queue", run: fairness.run },
  dead: { summary: "dead-letter tasks of a queue: dead ls | requeue | purge", run: dead.run },
  route: { summary: "traffic-routing rules of a queue: route add | ls | rm | test | history | rollback", run: route.run },
  workflow: { summary: "durable workflows: workflow start | describe | history | wait | cancel | signal | ls", run: workflow.run },
  version: { summary: "print the version and git commit", run: async (_args, io) => (io.stdout.write(versionLine() + "\n"), EXIT.ok) },
};

/** Runs the subcommand named by `argv[0]`. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(helpText());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-V") return SUBCOMMANDS.version!.run([], io);
  const command = SUBCOMMANDS[name];
  if (!command) {
    io.stderr.write(`error: unknown command '${name}' (see 'tqd help')\n`);
    return EXIT.usage;
  }
  return command.run(rest, io);
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
  void main(process.argv.slice(2), processIo()).then((code) => {
    process.exitCode = code;
  });
}
