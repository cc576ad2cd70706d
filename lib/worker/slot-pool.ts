/**
 * The worker's concurrency cap, shared by all its poll loops: three per queue (the queue, its
 * host queue and its worker queue). A loop reserves slots before it polls (so a poll never asks
 * for more tasks than can run), returns the ones the poll did not fill, and each task returns
 * its slot when it has been reported.
 *
 * An HTTP long poll holds its slots until it answers, so a poll parked on an idle queue keeps
 * them from the others. The pool bounds that cost with three rules:
 *   - Own slot. When the capacity allows every loop one (capacity >= loops), each loop has a
 *     slot of its own, set aside while it is unused. However busy the base queue is, its host
 *     and worker queues can always run a task, so a chain's next step is never starved by new
 *     work.
 *   - Idle loops ask for one. A loop whose last poll brought nothing (or that has not polled
 *     yet) reserves one slot: its own when unused. A loop whose last poll brought tasks may take
 *     up to `ceil(capacity / busy loops)`.
 *   - Shared slots are short-lived in polls. Every slot beyond a loop's own is shared. A poll
 *     holding shared slots is a "short" poll: the loop asks the server to hold it at most
 *     SHARED_POLL_WAIT_MS, so shared slots never sit for long in a poll parked on a queue that
 *     has gone quiet. Waiting loops get shared slots busy ones first, each group in arrival
 *     order; an idle loop that has waited IDLE_TURN_MS goes first, so a busy queue cannot
 *     keep another queue from being polled.
 * So an idle host or worker queue holds exactly one slot (its parked poll), never one the base
 * queue could share. Below one slot per loop there are no own slots: loops take turns as above,
 * and every poll is short. A host or worker queue's turn is then a look that does not wait
 * while a base queue's loop waits for a slot (see poll-loop.ts): a parked poll there held the
 * slot a task on the base queue was waiting for, so an idle `--concurrency 1` worker took up to
 * 2 s to start such a task (one parked poll of each). Only then: with the base queues' polls
 * parked on slots of their own, looks would take turns with each other back to back.
 */

/** How long the server may hold a poll that holds shared slots, in ms. */
export const SHARED_POLL_WAIT_MS = 1_000;
/**
 * How long an idle loop waits for a shared slot before it goes ahead of busy loops, in ms. An
 * idle poll that finds nothing holds its slot for SHARED_POLL_WAIT_MS, so under load idle
 * loops cost at most about a sixth of a slot each.
 */
export const IDLE_TURN_MS = 5_000;

/** Slots granted to one poll. */
export interface SlotGrant {
  count: number;
  /** True when every slot is the loop's own: the poll may wait the full long-poll time. */
  ownOnly: boolean;
  /** Fewer slots than loops: none has a slot of its own, and they take turns (see the header). */
  takingTurns: boolean;
  /** Another loop of a base queue waits for a slot (a host or worker queue's turn is then a look). */
  baseWaiting: boolean;
}

const NOTHING: SlotGrant = { count: 0, ownOnly: true, takingTurns: false, baseWaiting: false };

interface Waiter {
  account: SlotAccount;
  want: number;
  /** When it started waiting, epoch ms (see `rank`). */
  sinceMs: number;
  /** Not granted before a release or two turns of the event loop (see `reserve`). */
  deferred: boolean;
  resolve(grant: SlotGrant): void;
}

/** One poll loop's share of the pool: what it holds and whether its last poll brought tasks. */
export class SlotAccount {
  /** Slots reserved by this loop's pending poll plus slots held by tasks it started. */
  held = 0;
  /** Its last poll brought tasks; such a loop may reserve more than one slot. */
  busy = false;

  constructor(
    private readonly pool: SlotPool,
    /** The loop of a base queue, not of a host or worker queue. */
    readonly base: boolean,
  ) {}

  /**
   * Waits for at least one slot (see the header for how many); 0 once `signal` aborts.
   * `afterStartingTasks`: see SlotPool.reserve.
   */
  reserve(signal: AbortSignal, afterStartingTasks = false): Promise<SlotGrant> {
    return this.pool.reserve(this, signal, afterStartingTasks);
  }

  /** Returns `count` slots (unfilled reservations, or finished tasks). */
  release(count: number): void {
    this.pool.release(this, count);
  }

  /** Counts slots of tasks a server handed out beyond what was asked (see SlotPool.adopt). */
  adopt(count: number): void {
    this.pool.adopt(this, count);
  }

  /** Records how many tasks the last poll brought. */
  notePollResult(taskCount: number): void {
    this.busy = taskCount > 0;
  }
}

export class SlotPool {
  /** Slots reserved by pending polls plus slots held by running tasks, over all accounts. */
  private inUse = 0;
  private readonly accounts: SlotAccount[] = [];
  /** Loops waiting for slots, in arrival order. */
  private readonly waiters: Waiter[] = [];
  /** A grant is queued for the current microtask checkpoint (see release). */
  private granting = false;

  constructor(
    readonly capacity: number,
    /** The clock's `now`, epoch ms: ages idle waiters. */
    private readonly now: () => number,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`slot capacity must be a whole number >= 1, got ${capacity}`);
  }

  /** Opens the account of one poll loop (`base`: of a base queue); open them all before the first reserve. */
  open(base = false): SlotAccount {
    const account = new SlotAccount(this, base);
    this.accounts.push(account);
    return account;
  }

  get free(): number {
    return Math.max(0, this.capacity - this.inUse);
  }

  get used(): number {
    return this.inUse;
  }

  /** Slots each loop has of its own: 1 when every loop can have one, else 0. */
  get ownSlots(): number {
    return this.capacity >= this.accounts.length ? 1 : 0;
  }

  /**
   * Waits until the account can have at least one slot, then grants up to what it may ask for.
   *
   * `afterStartingTasks`: the loop has just started its last poll's tasks. It then waits in
   * line (keeping its rank and place) until slots are released or two turns of the event loop
   * have passed, even if slots are free: tasks that end at once report in the first turn, and
   * the acknowledgement batcher sends on the next, which frees their slots on the worker
   * stream. Granting at once split the slots for good: a 1-slot poll went out ahead of the
   * acknowledgements of the other 29, which then waited for its answer (a loop has one poll in
   * flight): two round trips per 30 tasks instead of one (W1 drain, 40,000 tasks: 1,808 ->
   * 1,338 polls). The poll loop asks for this only on the stream (see PollLoopDeps).
   */
  reserve(account: SlotAccount, signal: AbortSignal, afterStartingTasks = false): Promise<SlotGrant> {
    if (signal.aborted) return Promise.resolve(NOTHING);
    const want = this.wantOf(account);
    // A loop's own slot never waits; shared ones go to waiting loops of its rank or above first.
    const rank = this.rank({ account, sinceMs: this.now() });
    const grant = afterStartingTasks ? undefined : this.tryGrant(account, want, this.waiters.every((waiter) => this.rank(waiter) > rank));
    if (grant) return Promise.resolve(grant);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        account,
        want,
        sinceMs: this.now(),
        deferred: afterStartingTasks,
        resolve: (granted) => {
          signal.removeEventListener("abort", onAbort);
          resolve(granted);
        },
      };
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(NOTHING);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
      if (afterStartingTasks) {
        setImmediate(() =>
          setImmediate(() => {
            if (!waiter.deferred) return;
            waiter.deferred = false;
            this.grantWaiters();
          }),
        );
      }
    });
  }

  /** Returns `count` of the account's slots; waiting loops get what is free in a microtask. */
  release(account: SlotAccount, count: number): void {
    const returned = Math.min(Math.max(0, count), account.held);
    if (returned === 0) return;
    account.held -= returned;
    this.inUse -= returned;
    for (const waiter of this.waiters) waiter.deferred = false;
    // Slots freed together (a batch of acknowledgements sent at once) go out in one grant, so
    // the next poll asks for all of them instead of one poll per slot.
    if (this.granting) return;
    this.granting = true;
    queueMicrotask(() => {
      this.granting = false;
      this.grantWaiters();
    });
  }

  /**
   * Counts `count` slots as used without waiting, for tasks a server handed out beyond what was
   * asked. The pool may then sit above capacity until they finish; polls wait until it is not.
   */
  adopt(account: SlotAccount, count: number): void {
    if (count <= 0) return;
    account.held += count;
    this.inUse += count;
  }

  private wantOf(account: SlotAccount): number {
    if (!account.busy) return 1;
    const busy = this.accounts.filter((each) => each.busy).length;
    return Math.ceil(this.capacity / Math.max(1, busy));
  }

  private unusedOwn(account: SlotAccount): number {
    return Math.max(0, this.ownSlots - account.held);
  }

  /** Free slots that are nobody's unused own slot. */
  private sharedFree(): number {
    let setAside = 0;
    for (const account of this.accounts) setAside += this.unusedOwn(account);
    return Math.max(0, this.capacity - this.inUse - setAside);
  }

  private tryGrant(account: SlotAccount, want: number, mayShare: boolean): SlotGrant | undefined {
    const own = this.unusedOwn(account);
    const shared = mayShare ? this.sharedFree() : 0;
    // Adopted extras can push the pool over capacity; own slots never add to that.
    const count = Math.min(want, own + shared, this.capacity - this.inUse);
    if (count <= 0) return undefined;
    account.held += count;
    this.inUse += count;
    const baseWaiting = this.waiters.some((waiter) => waiter.account !== account && waiter.account.base);
    return { count, ownOnly: count <= own, takingTurns: this.ownSlots === 0, baseWaiting };
  }

  /** Who gets shared slots first: 0 an idle loop that waited IDLE_TURN_MS, 1 busy, 2 idle. */
  private rank(waiter: Pick<Waiter, "account" | "sinceMs">): number {
    if (waiter.account.busy) return 1;
    return this.now() - waiter.sinceMs >= IDLE_TURN_MS ? 0 : 2;
  }

  // By rank, then arrival: the first gets the shared slots; later ones may still get their own.
  private grantWaiters(): void {
    const order = [...this.waiters].sort((a, b) => this.rank(a) - this.rank(b)); // stable: arrival order within a rank
    for (const waiter of order) {
      if (waiter.deferred) continue;
      const grant = this.tryGrant(waiter.account, waiter.want, true);
      if (!grant) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(grant);
    }
  }
}
