/**
 * The whole HTTP API on one screen. Patterns match the raw (still percent-encoded) path;
 * captures are decoded afterwards. Queue captures are greedy so an unencoded `/` in a queue
 * name still routes; the order matters where suffixes nest (`/tasks/batch` before `/tasks`,
 * `/dead/requeue` before `/dead`), since a queue name may itself end in `/tasks` or `/dead`.
 */
import { queueRoutes } from "./queue-routes.ts";
import type { RouteHandler } from "./route-context.ts";
import { listDead, purgeDead, requeueDead } from "./dead-letter-routes.ts";
import { metrics } from "./metrics-route.ts";
import { routingRoutes } from "./routing-routes.ts";
import { releaseTasks } from "./release-route.ts";
import { settleBatch } from "./settle-batch-route.ts";
import { cancelWorkflow, completeWorkflowTask, explainWorkflow, getWorkflow, listWorkflows, signalWorkflow, startWorkflow, workflowHistory } from "./workflow-routes.ts";
import { cancelTask, completeTask, enqueueBatch, enqueueTask, explainTask, failTask, getTask, heartbeatTask, pollTasks } from "./task-routes.ts";

export interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  /** Names of the pattern's capture groups, in order. */
  params: readonly string[];
  handler: RouteHandler;
  /** Health checks stay open when a token is configured. */
  public?: boolean;
}

export const ROUTES: readonly Route[] = [
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/tasks\/batch$/, params: ["queue"], handler: enqueueBatch },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/tasks$/, params: ["queue"], handler: enqueueTask },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/poll$/, params: ["queue"], handler: pollTasks },
  { method: "GET", pattern: /^\/v1\/queues\/(.+)\/dead$/, params: ["queue"], handler: listDead },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/dead\/requeue$/, params: ["queue"], handler: requeueDead },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/dead\/purge$/, params: ["queue"], handler: purgeDead },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/limit$/, params: ["queue"], handler: queueRoutes.limit },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/pause$/, params: ["queue"], handler: queueRoutes.pause },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/resume$/, params: ["queue"], handler: queueRoutes.resume },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/fairness$/, params: ["queue"], handler: queueRoutes.fairness },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/pollers\/leave$/, params: ["queue"], handler: queueRoutes.leave },
  { method: "GET", pattern: /^\/v1\/queues\/(.+)\/routes\/history$/, params: ["queue"], handler: routingRoutes.history },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/routes\/test$/, params: ["queue"], handler: routingRoutes.test },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/routes\/rollback$/, params: ["queue"], handler: routingRoutes.rollback },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/routes\/([^/]+)\/delete$/, params: ["queue", "rule"], handler: routingRoutes.remove },
  { method: "GET", pattern: /^\/v1\/queues\/(.+)\/routes$/, params: ["queue"], handler: routingRoutes.list },
  { method: "POST", pattern: /^\/v1\/queues\/(.+)\/routes$/, params: ["queue"], handler: routingRoutes.add },
  { method: "GET", pattern: /^\/v1\/queues$/, params: [], handler: queueRoutes.list },
  // Several outcomes at once; GET on this path still reads a task whose id is "complete".
  { method: "POST", pattern: /^\/v1\/tasks\/complete$/, params: [], handler: settleBatch },
  { method: "POST", pattern: /^\/v1\/tasks\/release$/, params: [], handler: releaseTasks },
  { method: "GET", pattern: /^\/v1\/tasks\/([^/]+)$/, params: ["id"], handler: getTask },
  { method: "POST", pattern: /^\/v1\/tasks\/([^/]+)\/complete$/, params: ["id"], handler: completeTask },
  { method: "POST", pattern: /^\/v1\/tasks\/([^/]+)\/fail$/, params: ["id"], handler: failTask },
  { method: "POST", pattern: /^\/v1\/tasks\/([^/]+)\/heartbeat$/, params: ["id"], handler: heartbeatTask },
  { method: "POST", pattern: /^\/v1\/tasks\/([^/]+)\/cancel$/, params: ["id"], handler: cancelTask },
  { method: "GET", pattern: /^\/v1\/tasks\/([^/]+)\/explain$/, params: ["id"], handler: explainTask },
  { method: "POST", pattern: /^\/v1\/workflows$/, params: [], handler: startWorkflow },
  { method: "GET", pattern: /^\/v1\/workflows$/, params: [], handler: listWorkflows },
  { method: "GET", pattern: /^\/v1\/workflows\/([^/]+)$/, params: ["id"], handler: getWorkflow },
  { method: "GET", pattern: /^\/v1\/workflows\/([^/]+)\/history$/, params: ["id"], handler: workflowHistory },
  { method: "GET", pattern: /^\/v1\/workflows\/([^/]+)\/explain$/, params: ["id"], handler: explainWorkflow },
  { method: "POST", pattern: /^\/v1\/workflows\/([^/]+)\/signal$/, params: ["id"], handler: signalWorkflow },
  { method: "POST", pattern: /^\/v1\/workflows\/([^/]+)\/cancel$/, params: ["id"], handler: cancelWorkflow },
  { method: "POST", pattern: /^\/v1\/workflows\/([^/]+)\/task-complete$/, params: ["id"], handler: completeWorkflowTask },
  // One path segment: a queue name with `/` must be percent-encoded here, or `GET .../q/tasks`
  // would describe a queue "q/tasks" instead of answering 405.
  { method: "GET", pattern: /^\/v1\/queues\/([^/]+)$/, params: ["queue"], handler: queueRoutes.describe },
  { method: "GET", pattern: /^\/metrics$/, params: [], handler: metrics },
  { method: "GET", pattern: /^\/livez$/, params: [], handler: queueRoutes.livez, public: true },
  { method: "GET", pattern: /^\/readyz$/, params: [], handler: queueRoutes.readyz, public: true },
];
