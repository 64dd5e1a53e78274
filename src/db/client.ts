import { mkdirSync } from 'node:fs'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { schema } from './schema'

/** One type for both drivers, so services never know which database they run on. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export interface Database {
  db: Db
  driver: 'postgres' | 'pglite'
  /** Runs `fn` on one dedicated connection (advisory locks are per session). */
  withSession<T>(fn: (db: Db) => Promise<T>): Promise<T>
  /**
   * Called when a request ran out of time. If the pool cannot run `select 1` within a second
   * either, it is stuck on connections the database no longer answers (a failover can leave
   * them silent): drop them all and start a fresh pool. A slow request on a healthy pool
   * changes nothing. A no-op on PGlite.
   */
  resetIfStuck(): Promise<boolean>
  close(): Promise<void>
}

// After a reset, the next one waits this long: a database that is simply down should not have
// its pool torn down on every timed-out request.
const RESET_INTERVAL_MS = 5000
const PROBE_TIMEOUT_MS = 1000

export interface PostgresOptions {
  /** Upper bound of pooled connections. */
  max?: number
  /** Seconds to wait for a connection before failing the query. */
  connectTimeout?: number
  /**
   * Where dedicated sessions (migrations under an advisory lock) connect: a direct URL, since
   * a transaction-mode pooler such as Neon's cannot hold a session lock. Defaults to `rawUrl`.
   */
  sessionUrl?: string
}

// Neon's pooled hosts are PgBouncer in transaction mode: no named prepared statements there.
export const isPooler = (url: string) => new URL(url).hostname.includes('-pooler')

/**
 * Drizzle asks postgres.js for a named prepared statement only for queries given a name with
 * `.prepare()`. Every other query is described in a round trip of its own before it runs, and
 * planned anew by Postgres each time. This client prepares them all: postgres.js keeps one
 * statement per distinct SQL text on each connection, so a query the app runs again costs one
 * round trip. The connection's own `prepare: false` (a transaction-mode pooler) still wins.
 */
function preparingEveryQuery<T extends { unsafe: (...args: never[]) => unknown }>(client: T): T {
  const unsafe = (query: string, params?: unknown[], options?: Record<string, unknown>) =>
    (client.unsafe as (q: string, p?: unknown[], o?: Record<string, unknown>) => unknown)(query, params, {
      ...options,
      prepare: true,
    })
  return new Proxy(client, { get: (target, key) => (key === 'unsafe' ? unsafe : Reflect.get(target, key)) })
}

export async function openPostgres(rawUrl: string, options: PostgresOptions = {}): Promise<Database> {
  const { default: postgres } = await import('postgres')
  const { drizzle } = await import('drizzle-orm/postgres-js')
  const { parsePostgresUrl } = await import('./postgres-options')
  const target = parsePostgresUrl(rawUrl)
  const session = parsePostgresUrl(options.sessionUrl ?? rawUrl)
  const connect = () =>
    postgres(target.url, {
      ssl: target.ssl,
      prepare: !isPooler(target.url),
      max: options.max ?? 10,
      connect_timeout: options.connectTimeout ?? 5,
      idle_timeout: 30,
      max_lifetime: 30 * 60,
      onnotice: () => {},
      // Statements are prepared (see preparingEveryQuery), but after five runs Postgres would
      // switch to one generic plan that ignores the values: a search or a filter that picks
      // an index for one user's few tasks would then scan every user's. Each run is planned
      // for its own values; what preparing saves (a round trip, parsing) stays saved. A
      // transaction-mode pooler takes no startup parameters and prepares nothing anyway.
      ...(!isPooler(target.url) && { connection: { plan_cache_mode: 'force_custom_plan' } }),
    })
  let client = connect()
  let current = drizzle(preparingEveryQuery(client), { schema })
  let lastReset = 0
  // Services keep this one object for the app's lifetime; it always speaks through the
  // current pool, so a reset needs no rewiring.
  const db = new Proxy({} as Db, { get: (_, key) => Reflect.get(current, key) })
  return {
    db,
    driver: 'postgres',
    async resetIfStuck() {
      if (Date.now() - lastReset < RESET_INTERVAL_MS) return false
      lastReset = Date.now()
      const probe = client`select 1`
      const answered = await Promise.race([
        probe.then(() => true),
        Bun.sleep(PROBE_TIMEOUT_MS).then(() => false),
      ]).catch(() => false)
      if (answered) return false
      probe.cancel()
      const stuck = client
      client = connect()
      current = drizzle(preparingEveryQuery(client), { schema })
      await stuck.end({ timeout: 0 })
      return true
    },
    async withSession(fn) {
      const dedicated = postgres(session.url, { ssl: session.ssl, max: 1, connect_timeout: 10, onnotice: () => {} })
      try {
        return await fn(drizzle(dedicated, { schema }))
      } finally {
        await dedicated.end({ timeout: 5 })
      }
    },
    close: () => client.end({ timeout: 5 }),
  }
}

/** Embedded PostgreSQL (PGlite); `dataDir` undefined keeps it in memory. */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  const { pgliteAssets } = await import('./pglite-assets')
  // PGlite creates only the last directory of the path itself.
  if (dataDir) mkdirSync(dataDir, { recursive: true })
  const client = new PGlite({ dataDir, ...(await pgliteAssets()) })
  await client.waitReady
  const db = drizzle(client, { schema })
  // PGlite is one connection, so a "dedicated session" means taking turns: sessions run one
  // after another, as advisory-locked sessions would on Postgres.
  let turn: Promise<unknown> = Promise.resolve()
  return {
    db,
    driver: 'pglite',
    withSession(fn) {
      const run = turn.then(() => fn(db))
      turn = run.catch(() => {})
      return run
    },
    resetIfStuck: async () => false,
    close: () => client.close(),
  }
}

/** Rows of a raw `db.execute`: postgres.js answers an array, PGlite an object with `rows`. */
export async function queryRows<T>(db: Db, query: Parameters<Db['execute']>[0]): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(result) ? result : result.rows
}
