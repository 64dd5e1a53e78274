import { describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, ConfigErrors, loadConfig } from '../src/config'
import { connectionOptions } from '../src/db/client'
import { detectPooler, type PoolerMode } from '../src/db/pooler'
import { parsePostgresUrl } from '../src/db/postgres-options'

const SECRET = 's'.repeat(32)
const tempDir = () => mkdtempSync(join(tmpdir(), 'todo-api-config-'))
const load = (env: Record<string, string>) =>
  loadConfig({ BETTER_AUTH_SECRET: SECRET, DATA_DIR: tempDir(), ...env }, () => {})

describe('configuration', () => {
  test('defaults', () => {
    const config = load({})
    expect(config).toMatchObject({
      port: 8000,
      databaseUrl: undefined,
      corsOrigins: ['http://localhost:3000'],
      logLevel: 'info',
      bodyLimitBytes: 65536,
      jwks: undefined,
      production: false,
    })
  })

  test.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://root@localhost/db' }],
    ['DATABASE_URL', { DATABASE_URL: 'postgres://localhost/db?sslmode=bogus' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['BETTER_AUTH_SECRET', { BETTER_AUTH_SECRET: 'short' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'localhost:3000' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'https://app.example.com/path' }],
    ['BETTER_AUTH_URL', { BETTER_AUTH_URL: 'not a url' }],
    ['JWT_ISSUER', { JWKS_URL: 'https://auth.example.com/jwks' }],
    ['JWKS_REFETCH_INTERVAL', { BETTER_AUTH_URL: 'https://a.example.com', JWKS_REFETCH_INTERVAL: '1m' }],
    ['JWKS_REFETCH_INTERVAL', { BETTER_AUTH_URL: 'https://a.example.com', JWKS_REFETCH_INTERVAL: '0' }],
    ['JWKS_MAX_AGE', { BETTER_AUTH_URL: 'https://a.example.com', JWKS_MAX_AGE: 'soon' }],
    ['JWKS_MAX_AGE', { BETTER_AUTH_URL: 'https://a.example.com', JWKS_REFETCH_INTERVAL: '5', JWKS_MAX_AGE: '4' }],
  ])('an invalid %s stops start-up with a message naming it', (variable, env) => {
    let error: unknown
    try {
      load(env)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).variable).toBe(variable)
    expect((error as Error).message).toContain(variable)
    expect((error as Error).message).not.toContain('\n')
  })

  test.each([
    ['ACCESS_TOKEN_TTL', { ACCESS_TOKEN_TTL: '15 minutes' }],
    ['REFRESH_TOKEN_TTL', { REFRESH_TOKEN_TTL: '0' }],
    ['LOGIN_MAX_FAILURES', { LOGIN_MAX_FAILURES: '-1' }],
    ['LOGIN_WINDOW', { LOGIN_WINDOW: '400d' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'maybe' }],
    ['PASSWORD_HASH_MAX_WAITING', { PASSWORD_HASH_MAX_WAITING: 'lots' }],
    ['SIGNUP_MAX_PER_ADDRESS', { SIGNUP_MAX_PER_ADDRESS: '0' }],
    ['SIGNUP_WINDOW', { SIGNUP_WINDOW: 'an hour' }],
    ['REFRESH_MAX_PER_ADDRESS', { REFRESH_MAX_PER_ADDRESS: '1.5' }],
    ['REFRESH_WINDOW', { REFRESH_WINDOW: '0s' }],
    ['REFRESH_REUSE_GRACE', { REFRESH_REUSE_GRACE: 'half a minute' }],
    ['REFRESH_REUSE_GRACE', { REFRESH_REUSE_GRACE: '6m' }],
    ['REFRESH_REUSE_GRACE', { REFRESH_REUSE_GRACE: '-1' }],
    ['PASSWORD_HASH_MEMORY_KIB', { PASSWORD_HASH_MEMORY_KIB: '4096' }],
    ['PASSWORD_HASH_TIME_COST', { PASSWORD_HASH_TIME_COST: '0' }],
    ['PASSWORD_HASH_TIME_COST', { PASSWORD_HASH_MEMORY_KIB: '8192', PASSWORD_HASH_TIME_COST: '2' }],
    ['TRASH_RETENTION', { TRASH_RETENTION: 'a month' }],
    ['TRASH_RETENTION', { TRASH_RETENTION: '0' }],
  ])('an invalid %s is refused', (variable, env) => {
    expect(() => load(env)).toThrow(variable)
  })

  test('TRASH_RETENTION: 30 days unless set, as a duration', () => {
    expect(load({}).trashRetentionSeconds).toBe(30 * 86400)
    expect(load({ TRASH_RETENTION: '7d' }).trashRetentionSeconds).toBe(7 * 86400)
    expect(load({ TRASH_RETENTION: '90m' }).trashRetentionSeconds).toBe(5400)
  })

  test('REQUEST_TIMEOUT goes up to 4 minutes: a connection waits at most 255 s for its answer', () => {
    expect(load({ REQUEST_TIMEOUT: '4m' }).requestTimeoutSeconds).toBe(240)
    for (const value of ['241', '5m', '1h'])
      expect(() => load({ REQUEST_TIMEOUT: value })).toThrow(
        `REQUEST_TIMEOUT must be a duration like 900, 15m, 12h or 30d, up to 240s (4m): a connection waits at most 255 s for its answer (got "${value}")`,
      )
  })

  test('IDEMPOTENCY_KEY_TTL: a day by default, any duration up to 30 days', () => {
    expect(load({}).idempotencyKeyTtlSeconds).toBe(86400)
    expect(load({ IDEMPOTENCY_KEY_TTL: '48h' }).idempotencyKeyTtlSeconds).toBe(172800)
    for (const value of ['0', '31d', '1w', 'soon'])
      expect(() => load({ IDEMPOTENCY_KEY_TTL: value })).toThrow(
        `IDEMPOTENCY_KEY_TTL must be a duration like 900, 15m, 12h or 30d, up to 30d (got "${value}")`,
      )
  })

  test('TOMBSTONE_RETENTION: 90 days by default, any duration up to ten years', () => {
    expect(load({}).tombstoneRetentionSeconds).toBe(90 * 86400)
    expect(load({ TOMBSTONE_RETENTION: '7d' }).tombstoneRetentionSeconds).toBe(7 * 86400)
    for (const value of ['0', '3651d', 'forever'])
      expect(() => load({ TOMBSTONE_RETENTION: value })).toThrow(
        `TOMBSTONE_RETENTION must be a duration like 900, 15m, 12h or 30d, up to 3650d (got "${value}")`,
      )
  })

  test('account settings: durations take s, m, h, d', () => {
    const { accounts } = load({
      ACCESS_TOKEN_TTL: '5m',
      REFRESH_TOKEN_TTL: '7d',
      LOGIN_WINDOW: '90',
      TRUST_PROXY: 'true',
      SIGNUP_MAX_PER_ADDRESS: '5',
      SIGNUP_WINDOW: '1d',
      REFRESH_MAX_PER_ADDRESS: '50',
      REFRESH_WINDOW: '1m',
    })
    expect(accounts).toMatchObject({
      accessTokenTtlSeconds: 300,
      refreshTokenTtlSeconds: 7 * 86400,
      failureWindowSeconds: 90,
      trustProxy: true,
      maxFailuresPerEmail: 10,
      maxSignUpsPerAddress: 5,
      signUpWindowSeconds: 86400,
      maxRefreshesPerAddress: 50,
      refreshWindowSeconds: 60,
    })
    expect(load({}).accounts).toMatchObject({
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 30 * 86400,
      maxWaitingHashes: 32,
      maxSignUpsPerAddress: 20,
      signUpWindowSeconds: 3600,
      maxRefreshesPerAddress: 600,
      refreshWindowSeconds: 900,
    })
    expect(load({ PASSWORD_HASH_MAX_WAITING: '0' }).accounts.maxWaitingHashes).toBe(0)
  })

  test('REFRESH_REUSE_GRACE: 30 s by default, 0 turns it off, up to 5 minutes', () => {
    expect(load({}).accounts.refreshReuseGraceSeconds).toBe(30)
    expect(load({ REFRESH_REUSE_GRACE: '0' }).accounts.refreshReuseGraceSeconds).toBe(0)
    expect(load({ REFRESH_REUSE_GRACE: '5m' }).accounts.refreshReuseGraceSeconds).toBe(300)
    expect(() => load({ REFRESH_REUSE_GRACE: '301' })).toThrow(
      'invalid configuration: REFRESH_REUSE_GRACE must be a duration like 30 or 1m, from 0 up to 5m (got "301")',
    )
  })

  test("argon2id cost: OWASP's 19 MiB and 2 passes by default, raised or traded within its family", () => {
    expect(load({}).accounts.passwordHash).toEqual({ memoryCost: 19_456, timeCost: 2 })
    expect(load({ PASSWORD_HASH_MEMORY_KIB: '65536', PASSWORD_HASH_TIME_COST: '3' }).accounts.passwordHash).toEqual({
      memoryCost: 65_536,
      timeCost: 3,
    })
    expect(load({ PASSWORD_HASH_MEMORY_KIB: '7168', PASSWORD_HASH_TIME_COST: '5' }).accounts.passwordHash).toEqual({
      memoryCost: 7168,
      timeCost: 5,
    })
  })

  test('production requires BETTER_AUTH_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: tempDir() })).toThrow('BETTER_AUTH_SECRET')
  })

  test('without a secret, development generates one into DATA_DIR once and reuses it', () => {
    const dir = tempDir()
    const warnings: string[] = []
    const first = loadConfig({ DATA_DIR: dir }, (w) => warnings.push(w))
    const second = loadConfig({ DATA_DIR: dir }, (w) => warnings.push(w))
    expect(first.secret.length).toBeGreaterThanOrEqual(32)
    expect(second.secret).toBe(first.secret)
    expect(readFileSync(join(dir, 'dev-secret'), 'utf8').trim()).toBe(first.secret)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).not.toContain(first.secret)
  })

  test('BETTER_AUTH_URL turns on JWKS with issuer and audience defaulting to it', () => {
    expect(load({ BETTER_AUTH_URL: 'https://auth.example.com/' }).jwks).toEqual({
      url: 'https://auth.example.com/api/auth/jwks',
      issuer: 'https://auth.example.com',
      audience: 'https://auth.example.com',
      refetchIntervalSeconds: 3,
      maxAgeSeconds: 300,
    })
    expect(
      load({
        BETTER_AUTH_URL: 'https://auth.example.com',
        JWKS_URL: 'https://keys.example.com/jwks',
        JWT_AUDIENCE: 'todo',
        JWKS_REFETCH_INTERVAL: '1',
        JWKS_MAX_AGE: '2m',
      }).jwks,
    ).toEqual({
      url: 'https://keys.example.com/jwks',
      issuer: 'https://auth.example.com',
      audience: 'todo',
      refetchIntervalSeconds: 1,
      maxAgeSeconds: 120,
    })
  })

  test('CORS_ORIGINS takes a comma-separated list', () => {
    expect(load({ CORS_ORIGINS: 'https://a.example.com, http://localhost:5173/' }).corsOrigins).toEqual([
      'https://a.example.com',
      'http://localhost:5173',
    ])
  })

  test('the embedded database lives in DATA_DIR', () => {
    const dir = tempDir()
    expect(load({ DATA_DIR: dir }).dataDir).toBe(dir)
    expect(existsSync(dir)).toBe(true)
  })
})

describe('DATABASE_URL forms', () => {
  test('DATABASE_URL_DIRECT defaults to DATABASE_URL and is validated like it', () => {
    expect(load({ DATABASE_URL: 'postgres://a/b' }).databaseUrlDirect).toBe('postgres://a/b')
    expect(
      load({ DATABASE_URL: 'postgres://a-pooler/b', DATABASE_URL_DIRECT: 'postgres://a/b' }).databaseUrlDirect,
    ).toBe('postgres://a/b')
    expect(() => load({ DATABASE_URL_DIRECT: 'http://x' })).toThrow('DATABASE_URL_DIRECT')
  })

  test('a pooled URL no longer needs DATABASE_URL_DIRECT: migrations take no session lock', () => {
    const config = load({ DATABASE_URL: 'postgres://u@ep-x-pooler.neon.tech/db' })
    expect(config.databaseUrlDirect).toBe('postgres://u@ep-x-pooler.neon.tech/db')
    expect(config.directPooler.mode).toBe('transaction')
  })

  test('WORKERS above 1 needs DATABASE_URL', () => {
    expect(() => load({ WORKERS: '2' })).toThrow('WORKERS')
    expect(load({ WORKERS: '2', DATABASE_URL: 'postgres://a/b' }).workers).toBe(2)
  })

  test('a +driver suffix is tolerated', () => {
    expect(parsePostgresUrl('postgresql+asyncpg://u:p@db.example.com:5432/app').url).toBe(
      'postgres://u:p@db.example.com:5432/app',
    )
  })

  test('sslmode becomes the TLS setting and libpq-only parameters are dropped (Neon URLs)', () => {
    const neon = parsePostgresUrl(
      'postgresql://u:p@ep-x-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require',
    )
    expect(neon).toEqual({ url: 'postgresql://u:p@ep-x-pooler.eu-central-1.aws.neon.tech/neondb', ssl: 'require' })
    expect(parsePostgresUrl('postgres://localhost/db?sslmode=disable').ssl).toBe(false)
    expect(parsePostgresUrl('postgres://localhost/db?sslmode=verify-full').ssl).toBe('verify-full')
    expect(parsePostgresUrl('postgres://localhost/db').ssl).toBe(false)
    expect(() => parsePostgresUrl('postgres://localhost/db?sslmode=sometimes')).toThrow('sslmode')
  })
})

describe('DATABASE_POOLER', () => {
  const modeOf = (url: string) => detectPooler(url).mode

  test.each<[string, string, PoolerMode]>([
    [
      'Neon pooled host',
      'postgresql://u:p@ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require',
      'transaction',
    ],
    [
      'Neon direct host',
      'postgresql://u:p@ep-cool-name-123456.eu-central-1.aws.neon.tech/neondb?sslmode=require',
      'none',
    ],
    ['Supabase pooler, transaction port', 'postgres://u@aws-0-eu.pooler.supabase.com:6543/postgres', 'transaction'],
    ['Supabase pooler, session port', 'postgres://u@aws-0-eu.pooler.supabase.com:5432/postgres', 'session'],
    ['Supabase pooler, no port (5432)', 'postgres://u@aws-0-eu.pooler.supabase.com/postgres', 'session'],
    ['Supabase dedicated PgBouncer on 6543', 'postgres://postgres:p@db.abcd.supabase.co:6543/postgres', 'transaction'],
    ['Supabase direct', 'postgres://postgres:p@db.abcd.supabase.co:5432/postgres', 'none'],
    ['RDS Proxy', 'postgres://u:p@my-proxy.proxy-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com:5432/app', 'transaction'],
    ['RDS instance', 'postgres://u:p@my-db.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com:5432/app', 'none'],
    ["PgBouncer's default port", 'postgres://u@bouncer.internal:6432/app', 'transaction'],
    ['DigitalOcean pool', 'postgres://u@db-x.b.db.ondigitalocean.com:25061/pool?sslmode=require', 'transaction'],
    ['DigitalOcean direct', 'postgres://u@db-x.b.db.ondigitalocean.com:25060/db?sslmode=require', 'none'],
    ['local PostgreSQL', 'postgres://postgres@127.0.0.1:5432/postgres', 'none'],
    ['a +driver URL', 'postgresql+asyncpg://u@ep-x-pooler.neon.tech/db', 'transaction'],
  ])('auto: %s', (_, url, mode) => {
    expect(modeOf(url)).toBe(mode)
    expect(load({ DATABASE_URL: url }).pooler.mode).toBe(mode)
  })

  test('an explicit setting wins over detection, in any case', () => {
    expect(load({ DATABASE_URL: 'postgres://db:5432/app', DATABASE_POOLER: 'transaction' }).pooler).toEqual({
      mode: 'transaction',
      reason: 'DATABASE_POOLER=transaction',
    })
    expect(load({ DATABASE_URL: 'postgres://x-pooler/app', DATABASE_POOLER: 'none' }).pooler.mode).toBe('none')
    expect(load({ DATABASE_URL: 'postgres://db:6432/app', DATABASE_POOLER: 'Session' }).pooler.mode).toBe('session')
    expect(load({ DATABASE_URL: 'postgres://db:6432/app', DATABASE_POOLER: 'auto' }).pooler.mode).toBe('transaction')
  })

  test('the direct URL is detected on its own', () => {
    const config = load({
      DATABASE_URL: 'postgres://db:7000/app',
      DATABASE_POOLER: 'transaction',
      DATABASE_URL_DIRECT: 'postgres://db:5432/app',
    })
    expect(config.pooler.mode).toBe('transaction')
    expect(config.directPooler.mode).toBe('none')
  })

  test('an unknown mode, or a pooler without DATABASE_URL, stops start-up', () => {
    expect(() => load({ DATABASE_URL: 'postgres://db/app', DATABASE_POOLER: 'pgbouncer' })).toThrow(
      'invalid configuration: DATABASE_POOLER must be one of auto, transaction, session, none (got "pgbouncer")',
    )
    expect(() => load({ DATABASE_POOLER: 'transaction' })).toThrow('DATABASE_POOLER needs DATABASE_URL')
    expect(load({ DATABASE_POOLER: 'none' }).pooler.mode).toBe('none')
  })

  test('MIGRATION_LOCK_TIMEOUT: 2m by default, a duration up to 1h', () => {
    expect(load({}).migrationLockTimeoutSeconds).toBe(120)
    expect(load({ MIGRATION_LOCK_TIMEOUT: '30s' }).migrationLockTimeoutSeconds).toBe(30)
    expect(() => load({ MIGRATION_LOCK_TIMEOUT: '2h' })).toThrow('MIGRATION_LOCK_TIMEOUT')
    expect(() => load({ MIGRATION_LOCK_TIMEOUT: '0' })).toThrow('MIGRATION_LOCK_TIMEOUT')
  })

  test('behind a pooler: no named statements, no startup setting; in transaction mode one query at a time', () => {
    expect(connectionOptions('none')).toEqual({
      prepare: true,
      connection: { application_name: 'todo-api', plan_cache_mode: 'force_custom_plan' },
    })
    expect(connectionOptions('session')).toEqual({ prepare: false, connection: { application_name: 'todo-api' } })
    expect(connectionOptions('transaction')).toEqual({
      prepare: false,
      connection: { application_name: 'todo-api' },
      max_pipeline: 0,
    })
  })
})

describe('several invalid variables', () => {
  test('are all reported at once, one line each', () => {
    let error: unknown
    try {
      load({ PORT: 'eighty', DATABASE_POOLER: 'sometimes', DATABASE_URL: 'postgres://db/app', LOG_LEVEL: 'loud' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigErrors)
    const lines = (error as Error).message.split('\n')
    expect(lines).toHaveLength(3)
    for (const [i, variable] of ['LOG_LEVEL', 'DATABASE_POOLER', 'PORT'].entries())
      expect(lines[i]).toStartWith(`invalid configuration: ${variable} `)
  })
})
