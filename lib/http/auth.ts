/** Bearer-token check. The comparison takes the same time wherever the strings differ. */
const encoder = new TextEncoder();

export function hasValidToken(request: Request, token: string): boolean {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer (.+)$/.exec(header);
  return match !== null && constantTimeEqual(match[1]!, token);
}

function constantTimeEqual(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  // Always walk the expected token's full length so timing does not reveal a matching prefix.
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i % Math.max(a.length, 1)] ?? 0) ^ b[i]!;
  return diff === 0;
}
