import { codeOf, DatabaseUnavailableError, errorChain, isConnectionFailure } from './connection-failure'

// Besides a failed connection, failures that mean "the database cannot do this right now, try
// again", as opposed to a bad query: all answer 503 with Retry-After.
const TRY_AGAIN_CODES = new Set([
  'DATABASE_UNAVAILABLE',
  'CONNECTION_ENDED', // the pool was closed or replaced under the query
  'CONNECTION_DESTROYED',
  '53300', // too_many_connections
  '57014', // query_canceled (statement timeout, or cancelled by an operator)
  '40001', // serialization_failure: retrying may succeed
  '40P01', // deadlock_detected: retrying may succeed
])

export function isDatabaseUnreachable(error: unknown): boolean {
  if (isConnectionFailure(error)) return true
  for (const e of errorChain(error)) {
    const code = codeOf(e)
    if (code && TRY_AGAIN_CODES.has(code)) return true
  }
  return false
}

/** Refused by the circuit breaker without a query: already logged once, when it opened. */
export const refusedWithoutQuery = (error: unknown) =>
  [...errorChain(error)].some((e) => e instanceof DatabaseUnavailableError)

function sqlStateOfClass(error: unknown, sqlClass: string): string | undefined {
  for (const e of errorChain(error)) {
    const code = codeOf(e)
    if (code?.length === 5 && code.startsWith(sqlClass)) return code
  }
  return undefined
}

/** The SQLSTATE of a constraint violation (class 23), if that is what this is. */
export const constraintViolation = (error: unknown) => sqlStateOfClass(error, '23')

/** The SQLSTATE of a data exception (class 22: a value Postgres cannot store or compare). */
export const dataException = (error: unknown) => sqlStateOfClass(error, '22')
