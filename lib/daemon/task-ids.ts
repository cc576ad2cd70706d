/**
 * Identifiers the daemon mints. Task ids carry their creation time, then their seq, then 5
 * random digits (see lib/core/minted-task-id.ts: the store finds a row by the seq in its id);
 * workflow ids the time, then 80 random bits. Both are Crockford base32 like ULID and sort by
 * creation time, so ids in logs and listings read in order. Lease tokens are 125 random bits
 * (25 base32 digits): unguessable, so only the holder of a lease can settle it.
 *
 * The random digits come from a pool of CSPRNG bytes (`crypto.getRandomValues`, refilled when
 * used up; no byte serves twice), one byte per digit: its low 5 bits, uniform since 256 is a
 * multiple of 32. Each id used to take its own `getRandomValues` call and a bit buffer walked
 * with an iterator: 0.5-0.7 µs an id in isolation and about 1.6 µs a lease in a drain's
 * profile of the daemon, against 0.1-0.2 µs now.
 */
import { ALPHABET, RANDOM_FROM, SEQ_DIGITS, TASK_ID_LENGTH, TIME_DIGITS } from "../core/index.ts";

const DIGITS = new Uint8Array(Array.from(ALPHABET, (char) => char.charCodeAt(0)));
const LEASE_TOKEN_LENGTH = 25;

export interface IdSource {
  /** The id of the task that takes `seq` (DispatchCore.reserveSeq), created at `now`. */
  taskId(now: number, seq: number): string;
  workflowId(now: number): string;
  leaseToken(): string;
}

const pool = new Uint8Array(4096);
let poolAt = pool.length;
const idBytes = new Uint8Array(TASK_ID_LENGTH);
const leaseTokenBytes = new Uint8Array(LEASE_TOKEN_LENGTH);
/**
 * Ids are decoded from bytes in one step: a flat string. Appending character by character
 * (`out += c`) builds a chain of rope strings, and the ids a backlog keeps then sit among the
 * freed rope cells: a million pending tasks held about 120 MiB more resident memory.
 */
const latin1 = new TextDecoder("latin1");

export const mintedIds: IdSource = {
  taskId(now, seq) {
    writeDigits(idBytes, 0, TIME_DIGITS, Math.floor(now));
    writeDigits(idBytes, TIME_DIGITS, SEQ_DIGITS, seq);
    fillRandomDigits(idBytes, RANDOM_FROM);
    return latin1.decode(idBytes);
  },
  workflowId(now) {
    writeDigits(idBytes, 0, TIME_DIGITS, Math.floor(now));
    fillRandomDigits(idBytes, TIME_DIGITS);
    return latin1.decode(idBytes);
  },
  leaseToken() {
    fillRandomDigits(leaseTokenBytes, 0);
    return latin1.decode(leaseTokenBytes);
  },
};

/** Writes `value` (a non-negative integer) as `count` base32 digits from `at`, most significant first. */
function writeDigits(out: Uint8Array, at: number, count: number, value: number): void {
  let rest = value;
  for (let i = at + count - 1; i >= at; i--) {
    out[i] = DIGITS[rest % 32]!;
    rest = Math.floor(rest / 32);
  }
}

/** Writes random base32 digits into `out` from index `from` to its end. */
function fillRandomDigits(out: Uint8Array, from: number): void {
  if (poolAt + out.length > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  for (let i = from; i < out.length; i++) out[i] = DIGITS[pool[poolAt++]! & 31]!;
}
