/**
 * Arguments of the `tqd workflow` subcommands, checked locally against the protocol's grammars
 * so a typo exits 2 naming the argument before any request is sent.
 */
import { Argument, InvalidArgumentError } from "commander";
import { workflowIdSchema, workflowSignalRequestSchema, workflowStartRequestSchema } from "../../lib/protocol/index.ts";

function schemaParser(schema: { safeParse(value: unknown): { success: true; data: string } | { success: false; error: { issues: { message: string }[] } } }) {
  return (text: string): string => {
    const parsed = schema.safeParse(text);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? "invalid value");
    return parsed.data;
  };
}

export const parseWorkflowType = schemaParser(workflowStartRequestSchema.shape.type);
export const parseWorkflowId = schemaParser(workflowIdSchema);
export const parseSignalName = schemaParser(workflowSignalRequestSchema.shape.name);

/** `<ID>`: a workflow id (the task id grammar: workflow ids are idempotency keys like task ids). */
export function workflowIdArgument(): Argument {
  return new Argument("<ID>", "workflow id").argParser(parseWorkflowId);
}
