/**
 * One-line answers of the queue controls, for scripts (plain) and for people (TTY):
 * - `tqd limit`: `RATE burst BURST` (e.g. `50/s burst 50`) or `no limit`;
 * - `tqd pause` / `tqd resume`: `paused` or `resumed`, the queue's new state;
 * - `tqd fairness`: `KEY WEIGHT RATE PENDING` (RATE is `-` without a per-key limit);
 * - `tqd explain`: the server's message, then ` (until TIME)` when the wait has a known end.
 */
import { formatRate, type ExplainResponse, type FairnessKeyView, type LimitResponse, type PauseResponse } from "../../lib/protocol/index.ts";
import { renderFairnessColumns } from "./render-describe.ts";
import { escapeControlCharacters } from "./text-layout.ts";

export function renderLimit(answer: LimitResponse, human: boolean): string {
  const { limit, queue } = answer;
  if (!limit) return human ? `queue ${queue}: no rate limit (workers' --queue-rate may still declare one)\n` : "no limit\n";
  const rate = formatRate(limit.ratePerSecond);
  return human ? `queue ${queue}: at most ${rate}, bursts of up to ${limit.burst}\n` : `${rate} burst ${limit.burst}\n`;
}

export function renderPause(answer: PauseResponse, human: boolean): string {
  if (!human) return answer.paused ? "paused\n" : "resumed\n";
  return answer.paused
    ? `queue ${answer.queue} paused: it accepts tasks and dispatches none until 'tqd resume ${answer.queue}'\n`
    : `queue ${answer.queue} resumed: dispatching again\n`;
}

export function renderFairness(queue: string, key: FairnessKeyView, human: boolean): string {
  if (!human) return renderFairnessColumns(key) + "\n";
  const rate = key.ratePerSecond === undefined ? "no rate limit" : `at most ${formatRate(key.ratePerSecond)}`;
  return `fairness key ${escapeControlCharacters(key.key)} of ${queue}: weight ${key.weight}, ${rate}, ${key.pending} pending\n`;
}

/** One line in both layouts: it is a sentence already. */
export function renderExplain(answer: ExplainResponse): string {
  const until = answer.until === undefined ? "" : ` (until ${answer.until})`;
  return `${escapeControlCharacters(answer.message)}${until}\n`;
}
