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
  let time = "";
  let rest = Math.max(0, Math.floor(nowMs));
  for (let i = 0; i < TIME_CHARS; i++) {
    time = CROCKFORD_BASE32[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  // 16 characters of 5 bits each are exactly the 80 bits of 10 bytes.
  let random = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of randomBytes((RANDOM_CHARS * 5) / 8)) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      random += CROCKFORD_BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return time + random;
}

/** The most `crypto.getRandomValues` fills in one call. */
const POOL_BYTES = 65_536;

/**
 * Random bytes handed out from 64 KiB drawn at a time: `tqd enqueue --lines` mints an id a
 * line, and one call to the system's generator per id was a fifth of its CPU.
 */
export function pooledRandomBytes(source: RandomBytes = cryptoRandomBytes): RandomBytes {
  let pool: Uint8Array = new Uint8Array(0);
  let offset = 0;
  return (length) => {
    if (offset + length > pool.length) {
      pool = source(Math.max(POOL_BYTES, length));
      offset = 0;
    }
    const bytes = pool.subarray(offset, offset + length);
    offset += length;
    return bytes;
  };
}
