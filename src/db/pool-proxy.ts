import type { Sql } from 'postgres'
import type { CircuitBreaker } from './circuit-breaker'
import { DatabaseUnavailableError } from './connection-failure'

type Unsafe = (query: string, params?: unknown[], options?: Record<string, unknown>) => PromiseLike<unknown>
type Begin = (...args: unknown[]) => Promise<unknown>

/** A query refused without being sent: it rejects when awaited, and has the `values()` Drizzle calls. */
function refused() {
  const rejected = Promise.reject(new DatabaseUnavailableError())
  // Its caller awaits it a moment later; until then it is not an unhandled rejection.
  rejected.catch(() => {})
  return Object.assign(rejected, { values: () => rejected })
}

/**
 * Tells the breaker when `query` fails. postgres.js sends a query on the first `then`, after
 * Drizzle has chosen how to read it (`.values()`), so this must not call `then` itself: it
 * wraps the one the caller makes.
 */
function observed<Q extends PromiseLike<unknown>>(query: Q, breaker: CircuitBreaker): Q {
  const then = query.then
  // biome-ignore lint/suspicious/noThenProperty: it replaces the query's own `then`, to see its outcome
  query.then = function (this: Q, onFulfilled, onRejected) {
    return then.call(this, onFulfilled, (error: unknown) => {
      breaker.observe(error)
      if (onRejected) return onRejected(error)
      throw error
    }) as never
  }
  return query
}

/**
 * The pool as Drizzle sees it. Every query goes through the circuit breaker: refused at once
 * while it is open, and its failure reported to it otherwise.
 *
 * And every query is prepared. Drizzle asks postgres.js for a named prepared statement only
 * for queries given a name with `.prepare()`; every other query is described in a round trip
 * of its own before it runs, and planned anew by Postgres each time. postgres.js keeps one
 * statement per distinct SQL text on each connection, so a query the app runs again costs one
 * round trip. The connection's own `prepare: false` (a transaction-mode pooler) still wins.
 */
export function guardedPool(pool: Sql, breaker: CircuitBreaker): Sql {
  const unsafe: Unsafe = (query, params, options) =>
    breaker.isOpen
      ? refused()
      : observed((pool.unsafe as Unsafe)(query, params, { ...options, prepare: true }), breaker)
  // Transactions: the queries inside run on the transaction's own connection, and their
  // failures come out of `begin`.
  const begin: Begin = (...args) =>
    breaker.isOpen
      ? Promise.reject(new DatabaseUnavailableError())
      : (pool.begin as Begin)(...args).catch((error: unknown) => {
          breaker.observe(error)
          throw error
        })
  return new Proxy(pool, {
    get: (target, key) => (key === 'unsafe' ? unsafe : key === 'begin' ? begin : Reflect.get(target, key)),
  })
}
