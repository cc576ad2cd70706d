/**
 * Scaffolding for the long-poll wait loop tests (task-wait, workflow-wait): a manual clock and
 * a scripted server whose answers advance that clock by the time the request was held, so no
 * test sleeps.
 */
import type { Clock } from "../../../lib/clock/clock.ts";

export type ManualClock = Clock & { nowMs: number; sleeps: number[] };

/** A clock that moves only when something is held or sleeps; `sleeps` records each sleep. */
export function manualClock(): ManualClock {
  const clock = {
    nowMs: 1_000_000,
    sleeps: [] as number[],
    now: () => clock.nowMs,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.nowMs += ms;
    },
  };
  return clock;
}

/**
 * Answers in script order, recording each waitMs asked (-1 when none) in `asked`. An Error in
 * the script is thrown; a non-final answer is held for the full waitMs (or `heldMs`).
 */
export function scriptedAnswers<T>(clock: ManualClock, answers: (T | Error)[], isFinal: (answer: T) => boolean, heldMs?: number) {
  const asked: number[] = [];
  async function answer(waitMs: number | undefined): Promise<T> {
    const next = answers.shift();
    if (!next) throw new Error("asked more often than scripted");
    asked.push(waitMs ?? -1);
    if (next instanceof Error) throw next;
    if (!isFinal(next)) clock.nowMs += heldMs ?? waitMs ?? 0;
    return next;
  }
  return { answer, asked };
}
