/**
 * Async completion tokens: a handler hands its lease back to be finished elsewhere
 * (`ctx.completeLater()`), and `tqd complete TOKEN` / `tqd fail TOKEN` finish it. The token is
 * the task id and lease token; neither may contain `~`, so the encoding is unambiguous.
 */
import { TASK_ID_PATTERN } from "./names.ts";

const PREFIX = "tqd1~";

export interface CompletionToken {
  taskId: string;
  leaseToken: string;
}

export function encodeCompletionToken(token: CompletionToken): string {
  return `${PREFIX}${token.taskId}~${token.leaseToken}`;
}

/** Decodes a token, or returns undefined when the text is not one. */
export function decodeCompletionToken(text: string): CompletionToken | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  const [taskId, leaseToken, ...rest] = text.slice(PREFIX.length).split("~");
  if (rest.length > 0 || !taskId || !leaseToken || !TASK_ID_PATTERN.test(taskId) || !/^[A-Za-z0-9]{1,200}$/.test(leaseToken)) return undefined;
  return { taskId, leaseToken };
}
