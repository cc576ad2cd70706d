/**
 * Identifiers the daemon mints. Task ids sort by creation time (48-bit ms timestamp, then 80
 * random bits, Crockford base32 like ULID), so ids in logs and listings read in order. Lease
 * tokens are 128 random bits: unguessable, so only the holder of a lease can settle it.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export interface IdSource {
  taskId(now: number): string;
  leaseToken(): string;
}

export const randomIds: IdSource = {
  taskId(now) {
    let time = "";
    let t = Math.floor(now);
    for (let i = 0; i < 10; i++) {
      time = ALPHABET[t % 32] + time;
      t = Math.floor(t / 32);
    }
    return time + base32(crypto.getRandomValues(new Uint8Array(10)), 16);
  },
  leaseToken() {
    return base32(crypto.getRandomValues(new Uint8Array(16)), 26);
  },
};

function base32(bytes: Uint8Array, length: number): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}
