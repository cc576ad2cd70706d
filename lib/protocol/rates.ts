/**
 * Rates on the wire and the command line: `50/s`, `3000/m`, `10/h`, `0.5/s`. Parsed to tasks
 * per second.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";

const RATE_PATTERN = /^(\d+(?:\.\d+)?)\/(s|m|h)$/;
const PER_SECOND: Record<string, number> = { s: 1, m: 1 / 60, h: 1 / 3600 };
/** Rates above this are not limits in any useful sense (and keep token maths finite). */
export const MAX_RATE_PER_SECOND = 1_000_000;

/** Tasks per second, or undefined when the text is not a rate. */
export function parseRate(text: string): number | undefined {
  const match = RATE_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const perSecond = Number(match[1]) * (PER_SECOND[match[2] ?? ""] ?? NaN);
  return Number.isFinite(perSecond) && perSecond > 0 && perSecond <= MAX_RATE_PER_SECOND ? perSecond : undefined;
}

/** Renders tasks per second as the shortest exact-looking rate (`50/s`, `30/m`). */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1 || Number.isInteger(perSecond)) return `${round(perSecond)}/s`;
  if (perSecond * 60 >= 1) return `${round(perSecond * 60)}/m`;
  return `${round(perSecond * 3600)}/h`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** A positive rate string, parsed to tasks per second. */
export const rateSchema = lazySchema(() => z.string().transform((text, ctx) => {
  const perSecond = parseRate(text);
  if (perSecond === undefined) {
    ctx.addIssue({ code: "custom", message: "expected a rate such as 50/s, 3000/m or 10/h" });
    return z.NEVER;
  }
  return perSecond;
}));
