/**
 * Traffic-routing rules: which of a queue's tasks go to another queue. Rules are tried in order;
 * the first whose match holds and whose percentage takes the task routes it. The percentage is
 * decided by a hash of the task id, or of a header (`by`) so that one tenant always lands on the
 * same side; the rule id salts the hash so two percentage rules split independently.
 */
export interface RouteRule {
  id: string;
  /** Target queue. */
  to: string;
  /** Task type glob (`*` matches any run of characters); undefined = any type. */
  type: string | undefined;
  /** Header equality conditions, all of which must hold. */
  headers: Readonly<Record<string, string>> | undefined;
  /** 0-100. */
  percent: number;
  /** Header whose value decides the percentage (default: the task id). */
  by: string | undefined;
  /** A routed task not started by then goes back to the source; 0 = never. */
  fallbackAfterMs: number;
}

export interface RoutableTask {
  id: string;
  type: string;
  headers: Readonly<Record<string, string>> | undefined;
}

/** The first rule that routes the task, or undefined when it stays on the source queue. */
export function matchRoute(rules: readonly RouteRule[], task: RoutableTask): RouteRule | undefined {
  for (const rule of rules) {
    if (rule.type !== undefined && !globMatches(rule.type, task.type)) continue;
    if (rule.headers && Object.entries(rule.headers).some(([key, value]) => task.headers?.[key] !== value)) continue;
    if (rule.percent >= 100) return rule;
    const key = rule.by === undefined ? task.id : task.headers?.[rule.by];
    // A task without the `by` header cannot be placed deterministically: it stays.
    if (key === undefined) continue;
    if (bucketOf(`${rule.id}\u0000${key}`) < rule.percent * 100) return rule;
  }
  return undefined;
}

/** True when adding a rule source -> target would let tasks flow in a cycle. */
export function createsCycle(source: string, target: string, targetsOf: (queue: string) => readonly string[]): boolean {
  const seen = new Set<string>();
  const stack = [target];
  while (stack.length > 0) {
    const queue = stack.pop()!;
    if (queue === source) return true;
    if (seen.has(queue)) continue;
    seen.add(queue);
    stack.push(...targetsOf(queue));
  }
  return false;
}

export function globMatches(glob: string, text: string): boolean {
  const pattern = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*");
  return new RegExp(`^${pattern}$`).test(text);
}

/** FNV-1a over the UTF-16 code units, mapped to 0..9999. */
function bucketOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % 10_000;
}
