/**
 * Task ids minted by `tqd enqueue` when the producer gives no `--id`. Sending an id makes the
 * enqueue idempotent on the server, so the client may retry it after a transport failure without
 * ever creating a second task. The format is the server's own (see lib/daemon/task-ids.ts): 10
 * Crockford base32 characters of the millisecond timestamp, then 16 of randomness (80 bits), so
 * ids sort by creation time and two producers never collide in practice.
 */

const CROCKFORD_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

/** Fills a byte array with random bytes; tests pass a fixed source. */
export type RandomBytes = (length: number) => Uint8Array;

const cryptoRandomBytes: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));

/** A new time-sortable task id for `nowMs` (epoch ms). */
export function newTaskId(nowMs: number, randomBytes: RandomBytes = cryptoRandomBytes): string {
  return timeChars(nowMs) + randomChars(RANDOM_CHARS, randomBytes);
}

const SERIES_RANDOM_CHARS = 10;
const COUNTER_CHARS = RANDOM_CHARS - SERIES_RANDOM_CHARS;
const COUNTER_LIMIT = 32 ** COUNTER_CHARS;

/**
 * Ids for many tasks of one command (`tqd enqueue --lines`): the time of `nowMs`, 10 random
 * characters (50 bits) drawn once, then a 6-character counter, so they are unique like single
 * ids and count up. The server indexes the ids producers choose, and ids that count up go to
 * the end of that index, where random ones each land on a page of their own: with 300,000 ids
 * indexed, batches of 1,000 cost the daemon 9.5 µs a task with ascending ids and 13-30 µs with
 * random ones (bench/NOTES.md). Past 32^6 ids the random part is drawn again.
 */
export function taskIdSeries(nowMs: number, randomBytes: RandomBytes = cryptoRandomBytes): () => string {
  const time = timeChars(nowMs);
  let prefix = time + randomChars(SERIES_RANDOM_CHARS, randomBytes);
  let counter = 0;
  return () => {
    if (counter === COUNTER_LIMIT) {
      prefix = time + randomChars(SERIES_RANDOM_CHARS, randomBytes);
      counter = 0;
    }
    let digits = "";
    for (let rest = counter++, i = 0; i < COUNTER_CHARS; i++, rest = Math.floor(rest / 32)) digits = CROCKFORD_BASE32[rest % 32] + digits;
    return prefix + digits;
  };
}

function timeChars(nowMs: number): string {
  let time = "";
  let rest = Math.max(0, Math.floor(nowMs));
  for (let i = 0; i < TIME_CHARS; i++) {
    time = CROCKFORD_BASE32[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  return time;
}

/** `count` characters of 5 random bits each. */
function randomChars(count: number, randomBytes: RandomBytes): string {
  let random = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of randomBytes(Math.ceil((count * 5) / 8))) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && random.length < count) {
      random += CROCKFORD_BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return random;
}
