/**
 * Name grammars shared by every client and the server. Queue names may contain `/` (host and
 * worker queues such as `ops/host:web-1` use it), so clients percent-encode them in URL paths.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";

/** 1-255 bytes of `A-Z a-z 0-9 . _ - : @ /`. */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9._\-:@/]{1,255}$/;
/** Task types share the queue grammar: they appear in globs and CLI flags. */
export const TASK_TYPE_PATTERN = QUEUE_NAME_PATTERN;
/** Task ids travel in URL paths unencoded, so `/` is excluded. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9._\-:@]{1,255}$/;

// Built on first use (lazySchema), like the rest of the contract: a process that never parses a
// name with zod (most CLI commands) does not pay for building these.
export const queueNameSchema = lazySchema(() => z.string().regex(QUEUE_NAME_PATTERN, "queue names are 1-255 characters of A-Z a-z 0-9 . _ - : @ /"));
export const taskTypeSchema = lazySchema(() => z.string().regex(TASK_TYPE_PATTERN, "task types are 1-255 characters of A-Z a-z 0-9 . _ - : @ /"));
export const taskIdSchema = lazySchema(() => z.string().regex(TASK_ID_PATTERN, "task ids are 1-255 characters of A-Z a-z 0-9 . _ - : @"));
/** A worker's self-chosen name, shown in describe output and attempt records. */
export const identitySchema = lazySchema(() => z.string().min(1).max(255));

export function isQueueName(value: string): boolean {
  return QUEUE_NAME_PATTERN.test(value);
}

export function isTaskId(value: string): boolean {
  return TASK_ID_PATTERN.test(value);
}
