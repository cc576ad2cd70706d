/**
 * Durations on the wire and on the command line are strings with one unit: `250ms`, `30s`,
 * `5m`, `1h`, `2d`. Fractions are allowed (`1.5s`); the result is whole milliseconds.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** The longest duration accepted anywhere: 365 days. */
export const MAX_DURATION_MS = 365 * 86_400_000;

/** Parses a duration string into milliseconds, or returns undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unitMs = UNIT_MS[match[2] ?? ""];
  if (unitMs === undefined || !Number.isFinite(amount)) return undefined;
  const ms = Math.round(amount * unitMs);
  return ms <= MAX_DURATION_MS ? ms : undefined;
}

/** Renders milliseconds in the largest unit that divides them exactly. */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    const size = UNIT_MS[unit] ?? 1;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A positive duration string, parsed to milliseconds. */
export const durationSchema = lazySchema(() => z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({
      code: "custom",
      message: "expected a positive duration such as 250ms, 30s, 5m, 1h (at most 365d)",
    });
    return z.NEVER;
  }
  return ms;
}));
