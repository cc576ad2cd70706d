/**
 * Fuzzing the HTTP API: random methods, paths and bodies (random objects of the given keys
 * and values, or malformed JSON), each answer checked to be below 500 and, when an error, a
 * well-formed `{"error":{"code","message"}}` with a known code.
 */
import { expect } from "vitest";
import { ERROR_CODES, errorBodySchema } from "../../lib/protocol/index.ts";
import { seededRandom } from "./seeded-random.ts";
import type { TestServer } from "./test-server.ts";

export interface FuzzSpace {
  seed: number;
  requests: number;
  paths: readonly string[];
  keys: readonly string[];
  values: readonly unknown[];
  /** Most keys in one body (default 3). */
  maxKeys?: number;
  /** Applied to each body before it is sent (e.g. to keep long polls short). */
  adjust?: (body: Record<string, unknown>) => void;
}

const MALFORMED = ["{", "[", "nul", "\u0000", '{"type":"t"}{}', "\ud800"];

export async function fuzzRequests(server: TestServer, space: FuzzSpace): Promise<void> {
  const random = seededRandom(space.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  for (let i = 0; i < space.requests; i++) {
    const body: Record<string, unknown> = {};
    for (let k = Math.floor(random() * ((space.maxKeys ?? 3) + 1)); k > 0; k--) body[pick(space.keys)] = pick(space.values);
    space.adjust?.(body);
    const raw = random() < 0.15 ? pick(MALFORMED) : JSON.stringify(body);
    const method = pick(["GET", "POST", "PUT"]);
    const response = await server.fetch(new Request("http://tqd.test" + pick(space.paths), { method, body: method === "GET" ? undefined : raw }));
    expect(response.status, `${i}: ${method} ${raw}`).toBeLessThan(500);
    if (response.status >= 400) {
      const parsed = errorBodySchema.safeParse(await response.json());
      expect(parsed.success).toBe(true);
      expect(ERROR_CODES).toContain(parsed.data?.error.code);
    }
  }
}
