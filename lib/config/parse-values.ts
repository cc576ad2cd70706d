/**
 * Parsers for the value kinds config flags take. Each throws a ConfigError naming the flag;
 * none falls back to a default on bad input.
 */
import { ConfigError } from "./config-error.ts";

export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (all interfaces). */
export function parseListen(flag: string, text: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new ConfigError(flag, `invalid ${flag} "${text}": expected HOST:PORT, such as 127.0.0.1:7070 (port 0-65535)`);
  }
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20 };

/** A byte count: `1048576`, `512KiB`, `1MiB`, within [min, max]. */
export function parseBytes(flag: string, text: string, min: number, max: number): number {
  const match = /^(\d+)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = BYTE_UNITS[(match?.[2] ?? "?").toLowerCase()];
  const bytes = match && unit !== undefined ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < min || bytes > max) {
    throw new ConfigError(flag, `invalid ${flag} "${text}": expected a byte count from ${min} to ${max} (units: KiB, MiB)`);
  }
  return bytes;
}

/** A whole number within [min, max]. */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(flag, `invalid ${flag} "${text}": expected a whole number from ${min} to ${max}`);
  }
  return value;
}

/** One of a fixed set of words. */
export function parseChoice<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  const found = choices.find((choice) => choice === text);
  if (found === undefined) throw new ConfigError(flag, `invalid ${flag} "${text}": expected one of ${choices.join(", ")}`);
  return found;
}

/** True for loopback addresses, where running without a token is safe by default. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
