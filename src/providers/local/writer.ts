/**
 * Group commit: every write of the local provider goes through one queue,
 * and the writes queued during one turn of the event loop run in one
 * SQLite transaction. Each promise resolves only after that transaction
 * committed, so a resolved publish or acknowledgement is on disk, while
 * the cost of a commit is shared by everything written in the same turn.
 */
import { SwitchyardError } from '../../core/errors.ts';
import type { Db } from './database.ts';
import { closed, storeError } from './support.ts';

/** Most writes run in one transaction; the rest wait for the next. */
const MAX_WRITES_PER_TRANSACTION = 4096;

/** SQLite codes on which retrying each write alone would not help. */
const LOCK_FAILURE = /^SQLITE_(BUSY|LOCKED)/;

interface Write {
  operation: string;
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Told when a transaction ends, so that state kept in memory beside the
 * database (what a transaction wrote, not yet known to be durable)
 * follows the database: kept on commit, dropped on rollback.
 */
export interface TransactionObserver {
  committed(): void;
  rolledBack(): void;
}

/**
 * The write queue of one database connection.
 *
 * A write is a synchronous function over the database. It may throw a
 * SwitchyardError (a failed condition, a missing channel) only before it
 * has changed anything: that write is rejected and the others of the
 * transaction still commit. Any other error rolls the transaction back,
 * and each of its writes is then run again in a transaction of its own,
 * so that one failing write does not fail the others.
 */
export class Writer {
  readonly #db: Db;
  readonly #transaction: (writes: readonly Write[]) => Outcome[];
  readonly #observers: TransactionObserver[] = [];
  #queue: Write[] = [];
  #scheduled = false;
  #closed = false;

  constructor(db: Db) {
    this.#db = db;
    const transaction = db.transaction((writes: readonly Write[]): Outcome[] =>
      writes.map(attempt),
    );
    this.#transaction = (writes) => {
      let outcomes: Outcome[];
      try {
        outcomes = transaction.immediate(writes);
      } catch (error) {
        for (const observer of this.#observers) observer.rolledBack();
        throw error;
      }
      for (const observer of this.#observers) observer.committed();
      return outcomes;
    };
  }

  /** Tells `observer` about the end of every transaction from now on. */
  observe(observer: TransactionObserver): void {
    this.#observers.push(observer);
  }

  /**
   * Queues `work` for the next transaction and resolves with its result
   * once that transaction committed. `operation` names it in errors.
   */
  run<T>(operation: string, work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(closed(operation));

    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        operation,
        work,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.#schedule();
    });
  }

  /**
   * Refuses new writes and commits those already queued. Idempotent; the
   * connection stays open for the caller to close.
   */
  close(): void {
    this.#closed = true;
    while (this.#queue.length > 0) this.#flush();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
      if (this.#queue.length > 0) this.#schedule();
    });
  }

  #flush(): void {
    if (this.#queue.length === 0 || !this.#db.open) {
      this.#rejectQueued();
      return;
    }
    const batch = this.#queue.splice(0, MAX_WRITES_PER_TRANSACTION);

    let outcomes: Outcome[];
    try {
      outcomes = this.#transaction(batch);
    } catch (error) {
      if (batch.length === 1 || isLockFailure(error)) {
        for (const write of batch) {
          write.reject(storeError(error, write.operation));
        }
        return;
      }
      outcomes = batch.map((write) => this.#alone(write));
    }

    for (const [index, write] of batch.entries()) {
      const outcome = outcomes[index]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(storeError(outcome.error, write.operation));
    }
  }

  #alone(write: Write): Outcome {
    try {
      return this.#transaction([write])[0]!;
    } catch (error) {
      return { ok: false, error };
    }
  }

  #rejectQueued(): void {
    const queued = this.#queue;
    this.#queue = [];
    for (const write of queued) write.reject(closed(write.operation));
  }
}

function attempt(write: Write): Outcome {
  try {
    return { ok: true, value: write.work() };
  } catch (error) {
    // A Switchyard error is thrown before the write changed anything, so
    // the transaction can go on with the other writes.
    if (error instanceof SwitchyardError) return { ok: false, error };
    throw error;
  }
}

function isLockFailure(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && LOCK_FAILURE.test(code);
}
