import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type DetectedPooler, detectPooler, POOLER_SETTINGS, type PoolerSetting, resolvePooler } from './db/pooler'
import { parsePostgresUrl } from './db/postgres-options'
import { MAX_DEADLINE_SECONDS } from './http/deadline'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface JwksConfig {
  url: string
  issuer: string
  audience: string
  /** Least time between two fetches of the key set: what a token with an unknown `kid` can cost. */
  refetchIntervalSeconds: number
  /** A key set older than this is fetched again before use: how long a removed key still verifies. */
  maxAgeSeconds: number
}

export interface Config {
  port: number
  production: boolean
  databaseUrl: string | undefined
  /** Non-pooled URL for migrations (Neon: the host without `-pooler`); defaults to databaseUrl. */
  databaseUrlDirect: string | undefined
  /** What is in front of DATABASE_URL (DATABASE_POOLER, else detected from the URL). */
  pooler: DetectedPooler
  /** The same for DATABASE_URL_DIRECT (detected: it is meant to be PostgreSQL itself). */
  directPooler: DetectedPooler
  /** How long migrations wait for another instance's migration lock before giving up. */
  migrationLockTimeoutSeconds: number
  dataDir: string
  /** Server processes sharing the port; more than one needs DATABASE_URL. */
  workers: number
  /** A request still unanswered after this many seconds gets a 503 (a stalled database, say). */
  requestTimeoutSeconds: number
  /** How long an `Idempotency-Key`'s answer is kept for retries (the draft asks for at least a day). */
  idempotencyKeyTtlSeconds: number
  /** Tombstones of the change feed are kept this long; an older sync token is a 410. */
  tombstoneRetentionSeconds: number
  /** HS256 secret shared with Better Auth frontends; also signs this API's own tokens. */
  secret: string
  jwks: JwksConfig | undefined
  corsOrigins: string[]
  logLevel: LogLevel
  bodyLimitBytes: number
  /** Requests per minute per user; 0 switches the limiter off. */
  rateLimitPerMinute: number
  /** Deleted tasks stay in the trash this long, then a periodic job purges them. */
  trashRetentionSeconds: number
  accounts: AccountsConfig
  events: EventsConfig
}

export interface EventsConfig {
  /** Seconds between the comment lines that keep an idle event stream open through proxies. */
  heartbeatSeconds: number
}

export interface AccountsConfig {
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
  /** Failed logins allowed per email within the window; the next attempt answers 429. */
  maxFailuresPerEmail: number
  /** The same per client address, to slow down attacks spread over many emails. */
  maxFailuresPerAddress: number
  failureWindowSeconds: number
  /** Sign-ups allowed per client address within the window; the next answers 429. */
  maxSignUpsPerAddress: number
  signUpWindowSeconds: number
  /** Refreshes allowed per client address within the window; the next answers 429. */
  maxRefreshesPerAddress: number
  refreshWindowSeconds: number
  /**
   * Seconds after a refresh token was exchanged during which presenting it again answers the
   * session's newest token instead of counting as theft (tabs refreshing at once); 0 turns it off.
   */
  refreshReuseGraceSeconds: number
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy: boolean
  /** argon2id cost; OWASP's minimum by default (about 60 ms per hash on these machines). */
  passwordHash: { memoryCost: number; timeCost: number }
  /** New password hashes (sign-ups, password changes) that may wait for a slot; then 503. */
  maxWaitingHashes: number
}

/** Thrown for a bad environment; `main` prints `message` as the one line and exits. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`invalid configuration: ${variable} ${problem}`)
  }
}

/** Several bad variables at once: one line each, so that one deploy fixes them all. */
export class ConfigErrors extends ConfigError {
  constructor(readonly errors: ConfigError[]) {
    super(errors[0]?.variable ?? '', '')
    this.message = errors.map((e) => e.message).join('\n')
  }
}

type Env = Record<string, string | undefined>

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']
const MIN_SECRET_LENGTH = 32

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === '' ? undefined : value
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`)
  return Number(raw)
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/** Seconds, written as `900`, `900s`, `15m`, `12h` or `30d`. */
function duration(env: Env, name: string, fallback: number, max = { seconds: 365 * 86400, why: '365d' }): number {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  const seconds = secondsOf(raw) ?? 0
  if (seconds < 1 || seconds > max.seconds)
    throw new ConfigError(name, `must be a duration like 900, 15m, 12h or 30d, up to ${max.why} (got "${raw}")`)
  return seconds
}

function secondsOf(raw: string): number | undefined {
  const match = /^(\d+)([smhd]?)$/.exec(raw)
  return match ? Number(match[1]) * (DURATION_UNITS[match[2] || 's'] ?? 1) : undefined
}

// Long enough for tabs that refresh at once and for a retried request; short, because within it
// a stolen, already used refresh token still works (see rotateRefreshToken).
const MAX_REUSE_GRACE_SECONDS = 300

/** The refresh-token reuse grace: a duration that may be 0 (no grace). */
function reuseGrace(env: Env): number {
  const name = 'REFRESH_REUSE_GRACE'
  const raw = read(env, name)
  if (raw === undefined) return 30
  const seconds = secondsOf(raw)
  if (seconds === undefined || seconds > MAX_REUSE_GRACE_SECONDS)
    throw new ConfigError(name, `must be a duration like 30 or 1m, from 0 up to 5m (got "${raw}")`)
  return seconds
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)?.toLowerCase()
  if (raw === undefined) return fallback
  if (['true', '1', 'yes'].includes(raw)) return true
  if (['false', '0', 'no'].includes(raw)) return false
  throw new ConfigError(name, 'must be true or false')
}

function httpUrl(env: Env, name: string): string | undefined {
  const raw = read(env, name)
  if (raw === undefined) return undefined
  if (!/^https?:\/\//.test(raw) || !URL.canParse(raw)) throw new ConfigError(name, 'must be an http:// or https:// URL')
  return raw.replace(/\/+$/, '')
}

function databaseUrl(env: Env, name = 'DATABASE_URL'): string | undefined {
  const raw = read(env, name)
  if (raw === undefined) return undefined
  if (!/^postgres(ql)?(\+[a-z0-9]+)?:\/\//i.test(raw) || !URL.canParse(raw))
    throw new ConfigError(name, 'must be a postgres:// or postgresql:// URL')
  try {
    parsePostgresUrl(raw)
  } catch (error) {
    throw new ConfigError(name, `has ${(error as Error).message}`)
  }
  return raw
}

/**
 * Development convenience: without BETTER_AUTH_SECRET a random secret is generated once and
 * kept in DATA_DIR, so tokens made by `bun run token` keep working across restarts.
 */
function secret(env: Env, production: boolean, dataDir: string, warn: (msg: string) => void): string {
  const given = read(env, 'BETTER_AUTH_SECRET')
  if (given !== undefined) {
    if (given.length < MIN_SECRET_LENGTH)
      throw new ConfigError('BETTER_AUTH_SECRET', `must be at least ${MIN_SECRET_LENGTH} characters`)
    return given
  }
  if (production) throw new ConfigError('BETTER_AUTH_SECRET', 'is required when NODE_ENV=production')
  const file = join(dataDir, 'dev-secret')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  writeFileSync(file, `${generated}\n`, { mode: 0o600 })
  warn(`BETTER_AUTH_SECRET is not set: generated a development secret in ${file}`)
  return generated
}

function jwks(env: Env): JwksConfig | undefined {
  const baseUrl = httpUrl(env, 'BETTER_AUTH_URL')
  const jwksUrl = httpUrl(env, 'JWKS_URL') ?? (baseUrl && `${baseUrl}/api/auth/jwks`)
  if (jwksUrl === undefined) return undefined
  const issuer = read(env, 'JWT_ISSUER') ?? baseUrl
  const audience = read(env, 'JWT_AUDIENCE') ?? baseUrl
  if (issuer === undefined)
    throw new ConfigError('JWT_ISSUER', 'is required when JWKS_URL is set without BETTER_AUTH_URL')
  if (audience === undefined)
    throw new ConfigError('JWT_AUDIENCE', 'is required when JWKS_URL is set without BETTER_AUTH_URL')
  // A request whose key is not known yet may wait this long for the next fetch: a few seconds.
  const refetchIntervalSeconds = duration(env, 'JWKS_REFETCH_INTERVAL', 3, {
    seconds: 10,
    why: '10s, as a request with a new key may wait that long',
  })
  const maxAgeSeconds = duration(env, 'JWKS_MAX_AGE', 300, { seconds: 86400, why: '1d' })
  if (maxAgeSeconds < refetchIntervalSeconds)
    throw new ConfigError('JWKS_MAX_AGE', `must be at least JWKS_REFETCH_INTERVAL (${refetchIntervalSeconds}s)`)
  return { url: jwksUrl, issuer, audience, refetchIntervalSeconds, maxAgeSeconds }
}

function corsOrigins(env: Env): string[] {
  const raw = read(env, 'CORS_ORIGINS') ?? 'http://localhost:3000'
  const origins = raw
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean)
  for (const origin of origins)
    if (origin !== '*' && (!URL.canParse(origin) || new URL(origin).origin !== origin))
      throw new ConfigError('CORS_ORIGINS', `has "${origin}", which is not an origin like https://app.example.com`)
  return origins
}

// OWASP's argon2id floor is a family: 19 MiB with 2 passes, or less memory with more passes
// (7 MiB with 5). Memory times passes may not fall below that family's product.
const MIN_HASH_WORK = 7168 * 5

function passwordHash(env: Env): AccountsConfig['passwordHash'] {
  const memoryCost = integer(env, 'PASSWORD_HASH_MEMORY_KIB', 19_456, 7168, 4 * 1024 * 1024)
  const timeCost = integer(env, 'PASSWORD_HASH_TIME_COST', 2, 1, 100)
  if (memoryCost * timeCost < MIN_HASH_WORK)
    throw new ConfigError(
      'PASSWORD_HASH_TIME_COST',
      `times PASSWORD_HASH_MEMORY_KIB must be at least ${MIN_HASH_WORK} (OWASP's argon2id minimum)`,
    )
  return { memoryCost, timeCost }
}

function pooler(env: Env, url: string | undefined): DetectedPooler {
  const setting = (read(env, 'DATABASE_POOLER') ?? 'auto').toLowerCase()
  if (!POOLER_SETTINGS.includes(setting as PoolerSetting))
    throw new ConfigError('DATABASE_POOLER', `must be one of ${POOLER_SETTINGS.join(', ')} (got "${setting}")`)
  if (url === undefined) {
    if (setting !== 'auto' && setting !== 'none')
      throw new ConfigError('DATABASE_POOLER', 'needs DATABASE_URL: the embedded database has no pooler')
    return { mode: 'none', reason: 'embedded database' }
  }
  return resolvePooler(setting as PoolerSetting, url)
}

export function loadConfig(env: Env = Bun.env, warn: (msg: string) => void = console.warn): Config {
  const errors: ConfigError[] = []
  /** `fn`'s value, or `fallback` with its error noted: every bad variable is reported at once. */
  const valid = <T>(fallback: T, fn: () => T): T => {
    try {
      return fn()
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      errors.push(error)
      return fallback
    }
  }
  const production = read(env, 'NODE_ENV') === 'production'
  const logLevel = valid<LogLevel>('info', () => {
    const level = (read(env, 'LOG_LEVEL') ?? 'info').toLowerCase()
    if (!LOG_LEVELS.includes(level as LogLevel))
      throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`)
    return level as LogLevel
  })
  const dataDir = resolve(read(env, 'DATA_DIR') ?? './.data')
  const url = valid(undefined, () => databaseUrl(env))
  const direct = valid(undefined, () => databaseUrl(env, 'DATABASE_URL_DIRECT'))
  const workers = valid(1, () => {
    const n = integer(env, 'WORKERS', 1, 1, 64)
    if (n > 1 && read(env, 'DATABASE_URL') === undefined)
      throw new ConfigError('WORKERS', 'above 1 needs DATABASE_URL: the embedded database serves one process')
    return n
  })
  const poolerOfUrl = valid({ mode: 'none' as const, reason: 'invalid setting' }, () => pooler(env, url))
  const config: Config = {
    port: valid(8000, () => integer(env, 'PORT', 8000, 0, 65535)),
    production,
    databaseUrl: url,
    databaseUrlDirect: direct ?? url,
    pooler: poolerOfUrl,
    directPooler: direct ? detectPooler(direct) : poolerOfUrl,
    migrationLockTimeoutSeconds: valid(120, () =>
      duration(env, 'MIGRATION_LOCK_TIMEOUT', 120, { seconds: 3600, why: '1h' }),
    ),
    dataDir,
    workers,
    requestTimeoutSeconds: valid(10, () =>
      duration(env, 'REQUEST_TIMEOUT', 10, {
        seconds: MAX_DEADLINE_SECONDS,
        why: `${MAX_DEADLINE_SECONDS}s (4m): a connection waits at most 255 s for its answer`,
      }),
    ),
    tombstoneRetentionSeconds: valid(90 * 86400, () =>
      duration(env, 'TOMBSTONE_RETENTION', 90 * 86400, { seconds: 10 * 365 * 86400, why: '3650d' }),
    ),
    idempotencyKeyTtlSeconds: valid(86400, () =>
      duration(env, 'IDEMPOTENCY_KEY_TTL', 86400, { seconds: 30 * 86400, why: '30d' }),
    ),
    secret: valid('', () => secret(env, production, dataDir, warn)),
    jwks: valid(undefined, () => jwks(env)),
    corsOrigins: valid([], () => corsOrigins(env)),
    logLevel,
    bodyLimitBytes: valid(0, () => integer(env, 'BODY_LIMIT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024)),
    rateLimitPerMinute: valid(0, () => integer(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000)),
    trashRetentionSeconds: valid(0, () => duration(env, 'TRASH_RETENTION', 30 * 86400)),
    accounts: {
      accessTokenTtlSeconds: valid(0, () => duration(env, 'ACCESS_TOKEN_TTL', 15 * 60)),
      refreshTokenTtlSeconds: valid(0, () => duration(env, 'REFRESH_TOKEN_TTL', 30 * 86400)),
      maxFailuresPerEmail: valid(0, () => integer(env, 'LOGIN_MAX_FAILURES', 10, 1, 1_000_000)),
      maxFailuresPerAddress: valid(0, () => integer(env, 'LOGIN_MAX_FAILURES_PER_ADDRESS', 100, 1, 1_000_000)),
      failureWindowSeconds: valid(0, () => duration(env, 'LOGIN_WINDOW', 15 * 60)),
      maxSignUpsPerAddress: valid(0, () => integer(env, 'SIGNUP_MAX_PER_ADDRESS', 20, 1, 1_000_000)),
      signUpWindowSeconds: valid(0, () => duration(env, 'SIGNUP_WINDOW', 3600)),
      maxRefreshesPerAddress: valid(0, () => integer(env, 'REFRESH_MAX_PER_ADDRESS', 600, 1, 1_000_000)),
      refreshWindowSeconds: valid(0, () => duration(env, 'REFRESH_WINDOW', 15 * 60)),
      refreshReuseGraceSeconds: valid(0, () => reuseGrace(env)),
      trustProxy: valid(false, () => boolean(env, 'TRUST_PROXY', false)),
      passwordHash: valid({ memoryCost: 0, timeCost: 0 }, () => passwordHash(env)),
      maxWaitingHashes: valid(0, () => integer(env, 'PASSWORD_HASH_MAX_WAITING', 32, 0, 100_000)),
    },
    events: {
      heartbeatSeconds: valid(15, () => duration(env, 'EVENTS_HEARTBEAT', 15, { seconds: 240, why: '4m' })),
    },
  }
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) throw new ConfigErrors(errors)
  return config
}
