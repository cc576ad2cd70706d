/**
 * `GET /metrics` in the Prometheus text format (version 0.0.4). Per-queue series exist for the
 * queues in memory; a queue that goes idle leaves memory and its series end (counters restart
 * from 0 if it comes back, which Prometheus treats as a counter reset).
 */
import type { Histogram } from "../metrics/histogram.ts";
import type { RouteContext } from "./route-context.ts";

export function metrics(context: RouteContext): Response {
  const m = context.daemon.metrics();
  const out = new MetricsText();
  out.family("tqd_queue_tasks", "gauge", "Live tasks by queue and state.");
  for (const q of m.queues) for (const state of ["scheduled", "pending", "running"] as const) out.sample("tqd_queue_tasks", { queue: q.name, state }, q.counts[state]);
  out.family("tqd_queue_backlog", "gauge", "Pending tasks waiting for a worker, by queue.");
  for (const q of m.queues) out.sample("tqd_queue_backlog", { queue: q.name }, q.counts.pending);
  const totals = [
    ["tqd_tasks_enqueued_total", "Tasks enqueued since start.", "enqueued"],
    ["tqd_tasks_dispatched_total", "Attempts dispatched since start.", "dispatched"],
    ["tqd_tasks_completed_total", "Tasks completed since start.", "completed"],
    ["tqd_tasks_failed_total", "Tasks that ended failed or timed out since start.", "failed"],
  ] as const;
  for (const [name, help, field] of totals) {
    out.family(name, "counter", help);
    for (const q of m.queues) out.sample(name, { queue: q.name }, q.totals[field]);
  }
  out.family("tqd_pollers_waiting", "gauge", "Long-polls parked, waiting for a task.");
  out.sample("tqd_pollers_waiting", {}, m.pollersWaiting);
  out.family("tqd_queues_in_memory", "gauge", "Queues held in memory (live ones only).");
  out.sample("tqd_queues_in_memory", {}, m.queuesInMemory);
  out.family("tqd_live_tasks", "gauge", "Tasks scheduled, pending or running.");
  out.sample("tqd_live_tasks", {}, m.liveTasks);
  out.family("tqd_tasks_in_store_only", "gauge", "Pending tasks of deep backlogs that wait in the store only, read in as their line drains (part of tqd_live_tasks).");
  out.sample("tqd_tasks_in_store_only", {}, m.tasksInStoreOnly);
  const wf = m.workflows;
  out.family("tqd_workflows_running", "gauge", "Workflow executions running.");
  out.sample("tqd_workflows_running", {}, wf.running);
  out.family("tqd_workflows_started_total", "counter", "Workflow executions started since start.");
  out.sample("tqd_workflows_started_total", {}, wf.started);
  out.family("tqd_workflows_closed_total", "counter", "Workflow executions closed (completed, failed, canceled) since start.");
  out.sample("tqd_workflows_closed_total", {}, wf.closed);
  out.family("tqd_workflow_tasks_total", "counter", "Workflow tasks answered, by how the worker got the state: fresh (first task), cached (sticky hit), replay (rebuilt from history).");
  for (const mode of ["fresh", "cached", "replay"] as const) out.sample("tqd_workflow_tasks_total", { mode }, wf.taskModes[mode]);
  out.family("tqd_workflow_task_failures_total", "counter", "Workflow tasks that failed or timed out (a nondeterminism, a dead worker).");
  out.sample("tqd_workflow_task_failures_total", {}, wf.taskFailures);
  out.histogram("tqd_schedule_to_start_seconds", "Time from pending to dispatch, per attempt.", m.scheduleToStartSeconds);
  out.family("tqd_store_commits_total", "counter", "Store transactions committed (one fsync each).");
  out.sample("tqd_store_commits_total", {}, m.store.commits);
  out.histogram("tqd_store_commit_batch_size", "Operations per committed transaction (group commit).", m.store.batchSizes);
  out.histogram("tqd_store_commit_duration_seconds", "Duration of each commit, fsync included.", m.store.commitSeconds);
  const streams = context.settings.workerStreams?.();
  if (streams !== undefined) {
    out.family("tqd_worker_streams", "gauge", "Streams open (GET /v1/worker/stream): workers on --transport stream, producers on transport stream.");
    out.sample("tqd_worker_streams", {}, streams);
  }
  const process = context.settings.processStats?.();
  if (process) {
    out.family("process_resident_memory_bytes", "gauge", "Resident memory of the daemon.");
    out.sample("process_resident_memory_bytes", {}, process.rssBytes);
    out.family("tqd_heap_used_bytes", "gauge", "JavaScript heap in use.");
    out.sample("tqd_heap_used_bytes", {}, process.heapUsedBytes);
  }
  return new Response(out.text(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
}

class MetricsText {
  private readonly lines: string[] = [];

  family(name: string, type: "gauge" | "counter" | "histogram", help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, labels: Record<string, string>, value: number): void {
    const rendered = Object.entries(labels)
      .map(([key, v]) => `${key}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
      .join(",");
    this.lines.push(`${name}${rendered ? `{${rendered}}` : ""} ${Number.isFinite(value) ? value : 0}`);
  }

  histogram(name: string, help: string, histogram: Histogram): void {
    this.family(name, "histogram", help);
    const cumulative = histogram.cumulative();
    histogram.bounds.forEach((bound, i) => this.sample(`${name}_bucket`, { le: String(bound) }, cumulative[i]!));
    this.sample(`${name}_bucket`, { le: "+Inf" }, histogram.count);
    this.sample(`${name}_sum`, {}, histogram.sum);
    this.sample(`${name}_count`, {}, histogram.count);
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}
