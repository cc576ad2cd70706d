/**
 * `POST /v1/tasks/complete`: several completions and failures settled in one commit. Every item
 * gets its own answer in request order, so one stale lease (409) or unknown task (404) never
 * fails the others; the request itself fails only for a malformed body or an internal error.
 */
import type { Daemon } from "../daemon/index.ts";
import { settleBatchRequestSchema, type SchemaOutput, type SettleItemResult } from "../protocol/index.ts";
import { itemError } from "./errors.ts";
import { jsonText, readJsonBody } from "./request-body.ts";
import { json, type RouteContext } from "./route-context.ts";

export async function settleBatch(context: RouteContext): Promise<Response> {
  const body = await readJsonBody(context.request, settleBatchRequestSchema, context.settings.maxBodyBytes);
  return json({ results: await settleItems(context.daemon, body) });
}

/**
 * Settles a parsed batch: each item's answer in request order (also used by the worker stream).
 * `patient`: the caller does not wait on the answer to go on (a worker on the stream reuses its
 * slots once the batch is sent), so the commit may be paced under load.
 */
export async function settleItems(daemon: Daemon, body: SchemaOutput<typeof settleBatchRequestSchema>, patient = false): Promise<SettleItemResult[]> {
  const commands = body.completions.map((item) =>
    "error" in item ? { id: item.id, leaseToken: item.leaseToken, failure: item.error } : { id: item.id, leaseToken: item.leaseToken, resultJson: jsonText(item.result) },
  );
  const settled = await daemon.settleMany(commands, { patient });
  return settled.map((outcome, index): SettleItemResult => {
    const id = commands[index]!.id;
    return "record" in outcome ? { id, state: outcome.record.state } : { id, error: itemError(outcome.error) };
  });
}
