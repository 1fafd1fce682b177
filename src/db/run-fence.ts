/**
 * A fence between a piece of work that has been given up on and the database.
 *
 * The message queue runs each handler inside `runFenced(signal, …)`. When the handler
 * passes its timeout (or the worker hands its message to another worker at shutdown),
 * the queue aborts that signal. From then on every statement the handler's code starts
 * on a fenced Kysely instance is refused with `QueueRunAbortedError`, and a transaction
 * it has open cannot commit (Kysely rolls it back). Work done before the abort stays.
 *
 * The fence follows the handler through `await`s via AsyncLocalStorage, so services and
 * Fedify's own storage calls made by the handler are covered without passing anything
 * down. Code outside a fenced run is never affected.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from "kysely";

interface FenceStore {
  readonly signal: AbortSignal;
}

const fence = new AsyncLocalStorage<FenceStore>();

/** A statement was refused because the queue run it belongs to was given up on. */
export class QueueRunAbortedError extends Error {
  readonly code = "QUEUE_RUN_ABORTED";
  constructor() {
    super("This queue handler ran past its timeout (or its message was handed to another worker); its database writes are refused");
    this.name = "QueueRunAbortedError";
  }
}

/** Runs `fn` so that its database statements are refused once `signal` aborts. */
export function runFenced<T>(signal: AbortSignal, fn: () => T): T {
  return fence.run({ signal }, fn);
}

/** Runs `fn` outside any fenced run (for the queue's own bookkeeping). */
export function runUnfenced<T>(fn: () => T): T {
  return fence.exit(fn);
}

/** The signal of the fenced run the caller is in, if any: aborted once its work was given up on. */
export function currentRunSignal(): AbortSignal | undefined {
  return fence.getStore()?.signal;
}

function check(): void {
  if (fence.getStore()?.signal.aborted) throw new QueueRunAbortedError();
}

/** Wraps a dialect so every connection checks the fence before each statement, BEGIN and COMMIT. */
export function fencedDialect(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new FencedDriver(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

class FencedConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;
  constructor(inner: DatabaseConnection) {
    this.inner = inner;
    // Optional capabilities are offered only when the real connection has them.
    if (inner.cancelQuery) this.cancelQuery = (provider) => inner.cancelQuery!(provider);
    if (inner.killSession) this.killSession = (provider) => inner.killSession!(provider);
    if (inner.collectSessionInfo) this.collectSessionInfo = () => inner.collectSessionInfo!();
  }
  cancelQuery?: DatabaseConnection["cancelQuery"];
  killSession?: DatabaseConnection["killSession"];
  collectSessionInfo?: DatabaseConnection["collectSessionInfo"];
  async executeQuery<R>(...args: Parameters<DatabaseConnection["executeQuery"]>): Promise<QueryResult<R>> {
    check();
    return this.inner.executeQuery<R>(...args);
  }
  streamQuery<R>(...args: Parameters<DatabaseConnection["streamQuery"]>): AsyncIterableIterator<QueryResult<R>> {
    check();
    return this.inner.streamQuery<R>(...args);
  }
}

class FencedDriver implements Driver {
  readonly #inner: Driver;
  /** One wrapper per real connection, so Kysely sees stable connection objects. */
  readonly #wrappers = new WeakMap<DatabaseConnection, FencedConnection>();

  constructor(inner: Driver) {
    this.#inner = inner;
    if (inner.savepoint) this.savepoint = (c, name, compile) => inner.savepoint!(unwrap(c), name, compile);
    if (inner.rollbackToSavepoint) this.rollbackToSavepoint = (c, name, compile) => inner.rollbackToSavepoint!(unwrap(c), name, compile);
    if (inner.releaseSavepoint) this.releaseSavepoint = (c, name, compile) => inner.releaseSavepoint!(unwrap(c), name, compile);
  }
  savepoint?: Driver["savepoint"];
  rollbackToSavepoint?: Driver["rollbackToSavepoint"];
  releaseSavepoint?: Driver["releaseSavepoint"];

  init(...args: Parameters<Driver["init"]>) {
    return this.#inner.init(...args);
  }
  async acquireConnection(...args: Parameters<Driver["acquireConnection"]>): Promise<DatabaseConnection> {
    // No check here: Kysely holds PGlite's connection mutex around this call, and a throw
    // would leave it held. Statements on the connection check instead.
    const connection = await this.#inner.acquireConnection(...args);
    let wrapper = this.#wrappers.get(connection);
    if (!wrapper) this.#wrappers.set(connection, (wrapper = new FencedConnection(connection)));
    return wrapper;
  }
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    check();
    await this.#inner.beginTransaction(unwrap(connection), settings);
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    // Throwing here makes Kysely roll the transaction back instead.
    check();
    await this.#inner.commitTransaction(unwrap(connection));
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(unwrap(connection));
  }
  releaseConnection(connection: DatabaseConnection, ...rest: Parameters<Driver["releaseConnection"]> extends [unknown, ...infer R] ? R : never): Promise<void> {
    return this.#inner.releaseConnection(unwrap(connection), ...rest);
  }
  destroy(...args: Parameters<Driver["destroy"]>) {
    return this.#inner.destroy(...args);
  }
}

function unwrap(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof FencedConnection ? connection.inner : connection;
}
