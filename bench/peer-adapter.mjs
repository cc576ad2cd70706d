// tqd adapter for the shared peer benchmark harness (../shared/bench-peers, see bench/PEERS.md).
// Plain ESM for Node 20, no dependencies: talks to a running `tqd serve` over HTTP with the
// global fetch (undici, keep-alive by default). Same interface as the harness' peers/bullmq.mjs.
//
// Server: TQD_URL, else http://127.0.0.1:$TQD_PORT (TQD_PORT defaults to 7071, as in the
// harness' services.sh, which starts `$TQD_BIN serve --listen 127.0.0.1:$TQD_PORT`).
// Optional TQD_TOKEN (Authorization: Bearer), TQD_POLLERS (concurrent long-polls, default 4),
// TQD_CLIENT=fetch (default: the global fetch) or http (node:http with a keep-alive agent, which
// costs about half the client CPU per request of Node 20's fetch; used only to measure that cost)
// or stream (the producer's calls, enqueue, batched enqueue and the waiting read of W2, as frames
// on tqd's stream, `GET /v1/worker/stream`, over the global WebSocket: Node >= 22, or Node 20
// with NODE_OPTIONS=--experimental-websocket; as `TqdClient` with `transport: "stream"` does).
//
// The worker side (startWorker), TQD_WORKER:
//   process (default): what users run, `$TQD_BIN work bench/noop-handlers.mjs --queue Q
//     --concurrency C --server URL` as a child process. startWorker resolves once the child
//     logged "worker started" (it is polling); stopWorker sends SIGTERM and waits for it to exit.
//     The handler runs in the child, so the harness' onJob is fed from the daemon instead: when
//     the harness' worker.mjs drains N tasks (env N > 0), the adapter reads `tqd_live_tasks`
//     from /metrics (every 10 ms near the end, less often while it is far) and calls onJob once
//     per task that left the live set.
//   node: an in-process loop keeping `concurrency` slots, with a few concurrent long-polls that
//     each ask for their share of the free slots, running the no-op handler and completing each
//     task (client-bound: Node's HTTP client, one complete request per task).
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import http from 'node:http';
import { hostname } from 'node:os';

const BASE = (process.env.TQD_URL || `http://127.0.0.1:${process.env.TQD_PORT || 7071}`).replace(/\/+$/, '');
const TOKEN = process.env.TQD_TOKEN;
const CLIENT = ['http', 'stream'].includes(process.env.TQD_CLIENT) ? process.env.TQD_CLIENT : 'fetch';
const POLLERS = Math.max(1, Number(process.env.TQD_POLLERS || 4));
const WORKER = process.env.TQD_WORKER === 'node' ? 'node' : 'process';
const HANDLERS = fileURLToPath(new URL('./noop-handlers.mjs', import.meta.url));
const WAIT_MS = 30_000;
const BATCH_MAX_TASKS = 10_000; // server limit per batch call
const BATCH_MAX_BYTES = 900 * 1024; // stay under serve's default --max-body of 1 MiB
const FINAL = new Set(['completed', 'failed', 'canceled', 'timed_out']);
const TYPE = 'noop';
const enc = encodeURIComponent;

const HEADERS = { 'content-type': 'application/json', ...(TOKEN ? { authorization: `Bearer ${TOKEN}` } : {}) };

class TqdHttpError extends Error {
  constructor(method, path, status, body) {
    super(`tqd ${method} ${path}: HTTP ${status} ${body.slice(0, 300)}`);
    this.status = status;
  }
}

async function call(method, path, body, signal) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const { status, text } = CLIENT === 'http' ? await httpCall(method, path, payload, signal) : await fetchCall(method, path, payload, signal);
  if (status < 200 || status > 299) throw new TqdHttpError(method, path, status, text);
  return text ? JSON.parse(text) : {};
}

async function fetchCall(method, path, payload, signal) {
  const res = await fetch(BASE + path, { method, headers: HEADERS, body: payload, signal });
  return { status: res.status, text: await res.text() };
}

const agent = new http.Agent({ keepAlive: true });
function httpCall(method, path, payload, signal) {
  return new Promise((resolve, reject) => {
    const headers = payload === undefined ? HEADERS : { ...HEADERS, 'content-length': Buffer.byteLength(payload) };
    const req = http.request(BASE + path, { method, headers, agent, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// The producer's stream (TQD_CLIENT=stream): one WebSocket, calls matched to answers by ref.
class ProducerStream {
  constructor() {
    this.ref = 1;
    this.pending = new Map();
  }
  open() {
    if (this.socket && this.socket.readyState === 1) return Promise.resolve(this.socket);
    this.opening ??= new Promise((resolve, reject) => {
      if (typeof WebSocket !== 'function') {
        reject(new Error('tqd adapter: TQD_CLIENT=stream needs a global WebSocket (Node >= 22, or NODE_OPTIONS=--experimental-websocket)'));
        return;
      }
      const socket = new WebSocket(BASE.replace(/^http/, 'ws') + '/v1/worker/stream', TOKEN ? { headers: { authorization: `Bearer ${TOKEN}` } } : undefined);
      socket.onopen = () => { this.socket = socket; resolve(socket); };
      socket.onerror = () => reject(new Error('tqd adapter: the stream did not open'));
      socket.onmessage = (event) => {
        const answer = JSON.parse(String(event.data));
        const call = this.pending.get(answer.ref);
        if (!call) return;
        this.pending.delete(answer.ref);
        if (answer.status >= 200 && answer.status < 300) call.resolve(answer.body);
        else call.reject(new TqdHttpError(call.op, 'stream', answer.status, JSON.stringify(answer.body)));
      };
      socket.onclose = (event) => {
        if (this.socket === socket) this.socket = undefined;
        for (const call of this.pending.values()) call.reject(new Error(`tqd adapter: the stream closed (${event.code})`));
        this.pending.clear();
      };
    }).finally(() => { this.opening = undefined; });
    return this.opening;
  }
  async call(op, fields) {
    const socket = await this.open();
    const ref = this.ref++;
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { op, resolve, reject });
      socket.send(JSON.stringify({ op, ref, ...fields }));
    });
  }
  close() { this.socket?.close(1000, 'done'); }
}
const stream = CLIENT === 'stream' ? new ProducerStream() : undefined;

let tqdVersion;
function versionOfBinary() {
  if (tqdVersion !== undefined) return tqdVersion;
  tqdVersion = 'unknown';
  if (process.env.TQD_BIN) {
    try {
      tqdVersion = execFileSync(process.env.TQD_BIN, ['--version'], { encoding: 'utf8', timeout: 5000 }).trim().replace(/^tqd\s+/, '');
    } catch { /* keep unknown */ }
  }
  return tqdVersion;
}

// Splits a batch so that each call stays under the server's count and body-size limits.
function chunksOf(tasks) {
  const out = [];
  let cur = [];
  let bytes = 0;
  for (const t of tasks) {
    const b = JSON.stringify(t).length + 1;
    if (cur.length && (cur.length >= BATCH_MAX_TASKS || bytes + b > BATCH_MAX_BYTES)) { out.push(cur); cur = []; bytes = 0; }
    cur.push(t);
    bytes += b;
  }
  if (cur.length) out.push(cur);
  return out;
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

export default {
  name: 'tqd',
  libVersions: () => ({ tqd: versionOfBinary(), worker: WORKER === 'process' ? 'tqd work (child process)' : 'node in-process loop', client: { http: `node:http keep-alive (node ${process.version})`, stream: `the stream over node's WebSocket (undici ${process.versions.undici || '?'})`, fetch: `node fetch (undici ${process.versions.undici || '?'})` }[CLIENT], pollers: POLLERS }),

  async init(q) {
    this.q = q;
    this.qPath = `/v1/queues/${enc(q)}`;
    await call('GET', '/readyz');
  },
  // Completion is observed with GET /v1/tasks/{id}?waitMs (a long-poll): nothing to set up.
  async initEvents() {},

  async enqueueOne(data) {
    const task = { type: TYPE, input: data };
    const r = stream ? await stream.call('enqueue', { queue: this.q, body: task }) : await call('POST', `${this.qPath}/tasks`, task);
    return r.id;
  },
  async enqueueBatch(datas) {
    const tasks = datas.map((input) => ({ type: TYPE, input }));
    for (const chunk of chunksOf(tasks)) {
      if (stream) await stream.call('enqueueBatch', { queue: this.q, body: { tasks: chunk } });
      else await call('POST', `${this.qPath}/tasks/batch`, { tasks: chunk });
    }
  },
  async waitDone(id) {
    for (;;) {
      const t = stream ? await stream.call('get', { id, waitMs: WAIT_MS }) : await call('GET', `/v1/tasks/${enc(id)}?waitMs=${WAIT_MS}`);
      if (FINAL.has(t.state)) {
        if (t.state !== 'completed') throw new Error(`task ${id} ended ${t.state}`);
        return t;
      }
    }
  },
  async pending() {
    let d;
    try { d = await call('GET', this.qPath); } catch (e) { if (e.status === 404) return 0; throw e; }
    const c = d.counts || {};
    return (c.scheduled || 0) + (c.pending || 0) + (c.running || 0);
  },
  async durability() {
    return {
      fsync: 'before every acknowledgement',
      journal_mode: 'WAL',
      synchronous: 'FULL',
      group_commit: true,
      note: 'default = durable (no weaker mode exists)',
    };
  },
  async close() { stream?.close(); },

  // Worker side: onJob(data) is the no-op handler.
  async startWorker(q, concurrency, onJob) {
    if (WORKER === 'process') return this.startProcessWorker(q, concurrency, onJob);
    const qPath = `/v1/queues/${enc(q)}`;
    const identity = `bench-${hostname()}-${process.pid}`;
    const pollers = Math.min(POLLERS, concurrency);
    const share = Math.ceil(concurrency / pollers);
    const stop = new AbortController();
    const inflight = new Set();
    let free = concurrency;
    let slotWaiters = [];
    const wake = () => { const w = slotWaiters; slotWaiters = []; for (const r of w) r(); };
    const release = (n) => { if (n > 0) { free += n; wake(); } };
    const waitForSlot = () => new Promise((r) => { slotWaiters.push(r); });
    stop.signal.addEventListener('abort', wake, { once: true });
    this.worker = { stop, inflight, loops: [], errors: 0 };
    const w = this.worker;

    const runTask = async (task) => {
      try {
        await onJob(task.input);
        await call('POST', `/v1/tasks/${enc(task.id)}/complete`, { leaseToken: task.leaseToken });
      } catch (e) {
        w.errors++;
        if (w.errors <= 5) console.error('tqd adapter: task', task.id, e.message);
      } finally {
        release(1);
      }
    };

    const loop = async () => {
      let failures = 0;
      while (!stop.signal.aborted) {
        while (free < 1 && !stop.signal.aborted) await waitForSlot();
        if (stop.signal.aborted) break;
        const max = Math.min(share, free);
        free -= max;
        let tasks;
        try {
          ({ tasks } = await call('POST', `${qPath}/poll`, { identity, types: [TYPE], max, waitMs: WAIT_MS }, stop.signal));
          failures = 0;
        } catch (e) {
          release(max);
          if (stop.signal.aborted) break;
          if (failures++ < 5) console.error('tqd adapter: poll failed:', e.message);
          await sleep(Math.min(1000, 50 * 2 ** Math.min(failures, 5)), stop.signal);
          continue;
        }
        if (tasks.length < max) release(max - tasks.length);
        else free -= tasks.length - max; // never more than asked, but keep the count honest
        for (const task of tasks) {
          const p = runTask(task);
          inflight.add(p);
          p.finally(() => inflight.delete(p));
        }
      }
    };
    for (let i = 0; i < pollers; i++) w.loops.push(loop());
  },
  async startProcessWorker(q, concurrency, onJob) {
    if (!process.env.TQD_BIN) throw new Error('tqd adapter: TQD_WORKER=process needs TQD_BIN');
    const args = ['work', HANDLERS, '--queue', q, '--concurrency', String(concurrency), '--server', BASE];
    if (TOKEN) args.push('--token', TOKEN);
    const child = spawn(process.env.TQD_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const killOnExit = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
    process.on('exit', killOnExit); // worker.mjs ends with process.exit(): never leave the child behind
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('tqd adapter: `tqd work` did not log "worker started" within 10 s')), 10_000);
      exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`tqd adapter: \`tqd work\` exited (${code ?? signal}) before it started`)); });
      createInterface({ input: child.stderr }).on('line', (line) => {
        if (line.includes('worker started')) { clearTimeout(timer); resolve(); }
        else if (!/\bINFO\b/.test(line)) process.stderr.write(`[tqd work] ${line}\n`);
      });
    });
    const w = { child, exited, killOnExit, timer: undefined, stopped: false };
    this.worker = w;
    const n = Number(process.env.N || 0); // worker.mjs drains N tasks, then waits for handled >= N
    if (n > 0) {
      // Every 10 ms near the end; while the end is far, a quarter of the time the rate so far
      // says is left (at most 250 ms): each read renders /metrics, which costs the daemon CPU.
      let seen = 0;
      let first; // { at, done } of the first read that saw progress
      const read = async () => {
        let gap = 10;
        try {
          const res = await fetch(`${BASE}/metrics`, { headers: HEADERS });
          const m = /^tqd_live_tasks (\d+)/m.exec(await res.text());
          if (m) {
            const done = Math.max(0, n - Number(m[1]));
            for (; seen < done; seen++) onJob(undefined);
            const now = performance.now();
            if (done > 0) first ??= { at: now, done };
            if (first && done > first.done) gap = Math.max(10, Math.min(250, ((n - done) * (now - first.at)) / (done - first.done) / 4));
          }
        } catch { /* next read */ }
        if (!w.stopped) w.timer = setTimeout(read, gap);
      };
      w.timer = setTimeout(read, 10);
    }
  },
  async stopWorker() {
    const w = this.worker;
    if (!w) return;
    if (w.child) {
      w.stopped = true;
      clearTimeout(w.timer);
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
      const t = setTimeout(() => w.child.kill('SIGKILL'), 35_000);
      await w.exited;
      clearTimeout(t);
      process.off('exit', w.killOnExit);
      this.worker = undefined;
      return;
    }
    w.stop.abort();
    await Promise.allSettled(w.loops);
    await Promise.allSettled([...w.inflight]);
    this.worker = undefined;
  },
};
