/**
 * Machine limit (b): a `Bun.serve` server with one trivial JSON route, standing in for tqd's
 * enqueue without the queue: `POST /v1/queues/{queue}/tasks` parses the JSON body and answers
 * `201 {id, queue, type, state, created}`. Anything else is a 404.
 *
 *   bun bench/limits/serve-json.ts [--port 0]      # prints "serve-json url=http://127.0.0.1:PORT"
 *
 * The bench (workloads/machine-limits.ts) drives it with its own HTTP client, in the same
 * styles as tqd's enqueue workloads; SIGTERM stops it.
 */
const at = process.argv.indexOf("--port");
const port = at < 0 ? 0 : Number(process.argv[at + 1]);
let next = 0;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  async fetch(request) {
    const match = /^\/v1\/queues\/([^/]+)\/tasks$/.exec(new URL(request.url).pathname);
    if (request.method !== "POST" || !match) return Response.json({ error: { code: "not_found", message: "no such route" } }, { status: 404 });
    const body = (await request.json()) as { type?: unknown };
    return Response.json({ id: `t-${next++}`, queue: match[1], type: body.type, state: "pending", created: true }, { status: 201 });
  },
});
console.log(`serve-json url=${server.url.origin}`);
process.on("SIGTERM", () => {
  void server.stop().then(() => process.exit(0));
});
