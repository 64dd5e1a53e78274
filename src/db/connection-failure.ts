// Failures of the connection itself, as opposed to a query the database refused: the database
// is down, unreachable, restarting, or dropped the connection.
const CONNECTION_FAILURE_CODES = new Set([
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
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, or shutting down)
])

/** Refused at once, without asking the database: it is known to be unreachable right now. */
export class DatabaseUnavailableError extends Error {
  readonly code = 'DATABASE_UNAVAILABLE'
  constructor() {
    super('the database is unreachable; queries are refused until it answers again')
  }
}

export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Drizzle wraps driver errors; walk the `cause` chain to the driver's own. */
export function* errorChain(error: unknown): Generator<unknown> {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) yield e
}

/** True when the connection failed (SQLSTATE class 08 included), wherever in the chain. */
export function isConnectionFailure(error: unknown): boolean {
  for (const e of errorChain(error)) {
    const code = codeOf(e)
    if (code && (CONNECTION_FAILURE_CODES.has(code) || (code.length === 5 && code.startsWith('08')))) return true
  }
  return false
}

/**
 * One sentence for an operator when the database cannot be used at all (at start-up): where
 * it was tried and why it failed, never the password. Undefined for any other failure.
 */
export function describeConnectFailure(error: unknown, url: string): string | undefined {
  const { hostname, port } = new URL(url)
  const at = `${hostname}:${port || 5432}`
  for (const e of errorChain(error)) {
    const code = codeOf(e)
    if (!code) continue
    const message = e instanceof Error ? e.message : ''
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return `cannot reach PostgreSQL at ${at}: ${code} (the host name does not resolve)`
    if (/\b(TLS|SSL)\b/.test(message) && CONNECTION_FAILURE_CODES.has(code))
      return `cannot reach PostgreSQL at ${at}: ${code} during the TLS handshake (sslmode requires TLS: does the server offer it?)`
    // PgBouncer (and other poolers) refuse a startup parameter they do not know with 08P01.
    if (code === '08P01' && /startup parameter/i.test(message))
      return `the pooler at ${at} refused the connection: ${message} (set DATABASE_POOLER=transaction, or session)`
    if (code === 'CONNECT_TIMEOUT')
      return `cannot reach PostgreSQL at ${at}: CONNECT_TIMEOUT (no PostgreSQL answer in time)`
    if (isConnectionFailure(e)) return `cannot reach PostgreSQL at ${at}: ${code}`
    // 28000 invalid_authorization_specification (no such role, no pg_hba.conf entry: TLS
    // required, say), 28P01 invalid_password. The server's message names the user, not the password.
    if (code.startsWith('28')) {
      const tls = /SSL off|insecure|sslmode/i.test(message) ? ' (the server requires TLS: add sslmode=require)' : ''
      return `PostgreSQL at ${at} refused the login: ${message} (${code})${tls}`
    }
    if (code === '3D000') return `PostgreSQL at ${at}: ${message} (${code})`
  }
  return undefined
}
