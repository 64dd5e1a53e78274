// Failures that mean "the database cannot do this right now, try again", as opposed to a bad
// query: they answer 503 with Retry-After.
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '57014', // query_canceled (statement timeout, or cancelled by an operator)
  '40001', // serialization_failure: retrying may succeed
  '40P01', // deadlock_detected: retrying may succeed
])

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Drizzle wraps driver errors; walk the `cause` chain to the driver's own. */
export function* errorChain(error: unknown): Generator<unknown> {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) yield e
}

export function isDatabaseUnreachable(error: unknown): boolean {
  for (const e of errorChain(error)) {
    const code = codeOf(e)
    if (code && (UNREACHABLE_CODES.has(code) || code.startsWith('08'))) return true
  }
  return false
}

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
