import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type { Logger } from '../logger'
import type { ChangeListener } from './change-listener'
import { lockDataDir } from './data-dir-lock'
import type { PoolerMode } from './pooler'
import { schema } from './schema'

/** One type for both drivers, so services never know which database they run on. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export interface Database {
  db: Db
  driver: 'postgres' | 'pglite'
  /** What is in front of the database: the queries are made to suit it. */
  pooler: PoolerMode
  /** Runs `fn` on one dedicated connection, over the direct URL when there is one. */
  withSession<T>(fn: (db: Db) => Promise<T>): Promise<T>
  /**
   * Called when a request ran out of time. If the pool cannot run `select 1` within a second
   * either, it is stuck on connections the database no longer answers (a failover can leave
   * them silent): drop them all and start a fresh pool. A slow request on a healthy pool
   * changes nothing. A no-op on PGlite.
   */
  resetIfStuck(): Promise<boolean>
  /**
   * The process's one listener for committed changes (see change-listener.ts), started on first
   * use: a process that never serves a live stream holds no extra connection.
   */
  changes(): Promise<ChangeListener>
  close(): Promise<void>
}

// After a reset, the next one waits this long: a database that is simply down should not have
// its pool torn down on every timed-out request.
const RESET_INTERVAL_MS = 5000
const PROBE_TIMEOUT_MS = 1000
// While the circuit breaker is open, the database is probed this often.
const PROBE_INTERVAL_MS = 500
const SESSION_CONNECT_TIMEOUT_MS = 10_000

/** Resolves as `query` does, or rejects with CONNECT_TIMEOUT when it has not answered in `ms`. */
async function answersWithin(query: PromiseLike<unknown>, ms: number): Promise<void> {
  let timer: Timer | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer from PostgreSQL within ${ms} ms`), { code: 'CONNECT_TIMEOUT' })),
      ms,
    )
  })
  try {
    await Promise.race([query, late])
  } finally {
    clearTimeout(timer)
  }
}

export interface PostgresOptions {
  /** Upper bound of pooled connections. */
  max?: number
  /** Seconds to wait for a connection before failing the query. */
  connectTimeout?: number
  /**
   * Where dedicated sessions (migrations) connect: DATABASE_URL_DIRECT when it is set. Their
   * lock lasts one transaction, so a pooled URL works too. Defaults to `rawUrl`.
   */
  sessionUrl?: string
  /** Where the database going away and coming back is reported. */
  logger?: Logger
  /** What is in front of `rawUrl`; default none (PostgreSQL itself). */
  pooler?: PoolerMode
  /** What is in front of `sessionUrl`; defaults to `pooler` when there is no `sessionUrl`. */
  sessionPooler?: PoolerMode
}

/**
 * postgres.js options for what is in front of the database. Each run of a statement must be
 * planned for its own values: after five runs of a named prepared statement, PostgreSQL would
 * otherwise switch to one generic plan that ignores them, and a search or filter that picks an
 * index for one user's few tasks would scan every user's (search fell 13x that way).
 *
 * - PostgreSQL itself: named statements (a round trip and the parsing saved), and
 *   `plan_cache_mode` as a startup parameter.
 * - A pooler, in either mode: PgBouncer refuses startup parameters it does not know, and a
 *   named statement lives on one server connection that the next transaction may not get
 *   (another client's statement of the same name answered: 404s, 401s, wrong rows). Unnamed
 *   statements: planned at each Bind with its values, so custom plans without any setting.
 * - Transaction mode also sends one query at a time per connection: a pipelined query could
 *   still be in flight when the pooler hands the server connection on at the first one's end
 *   (pipelined queries of mixed kinds hung through PgBouncer 1.18; see tests/pooler.test.ts).
 */
export function connectionOptions(pooler: PoolerMode) {
  const application_name = 'todo-api'
  if (pooler === 'none')
    return { prepare: true, connection: { application_name, plan_cache_mode: 'force_custom_plan' } }
  return { prepare: false, connection: { application_name }, ...(pooler === 'transaction' && { max_pipeline: 0 }) }
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

export async function openPostgres(rawUrl: string, options: PostgresOptions = {}): Promise<Database> {
  const { default: postgres } = await import('postgres')
  const { drizzle } = await import('drizzle-orm/postgres-js')
  const { parsePostgresUrl } = await import('./postgres-options')
  const { createCircuitBreaker } = await import('./circuit-breaker')
  const { guardedPool } = await import('./pool-proxy')
  const logger = options.logger ?? silent
  const target = parsePostgresUrl(rawUrl)
  const session = parsePostgresUrl(options.sessionUrl ?? rawUrl)
  const pooler = options.pooler ?? 'none'
  const sessionPooler = options.sessionPooler ?? (options.sessionUrl ? 'none' : pooler)
  const connect = () =>
    postgres(target.url, {
      ssl: target.ssl,
      ...connectionOptions(pooler),
      max: options.max ?? 10,
      connect_timeout: options.connectTimeout ?? 5,
      idle_timeout: 30,
      max_lifetime: 30 * 60,
      // postgres.js spaces out reconnections, by up to 20 s after a few failures, which kept
      // requests waiting long after the database was back. The circuit breaker keeps requests
      // away from a database that is down, so reconnecting at once cannot turn into a storm.
      backoff: () => 0.05,
      onnotice: () => {},
    })

  /** A connection of its own each time: the pool may hold connections that no longer answer. */
  async function databaseAnswers(): Promise<boolean> {
    const probe = postgres(target.url, {
      ssl: target.ssl,
      max: 1,
      prepare: false,
      fetch_types: false,
      connect_timeout: PROBE_TIMEOUT_MS / 1000,
      onnotice: () => {},
    })
    try {
      return await Promise.race([probe`select 1`.then(() => true), Bun.sleep(PROBE_TIMEOUT_MS).then(() => false)])
    } catch {
      return false
    } finally {
      void probe.end({ timeout: 0 })
    }
  }

  const breaker = createCircuitBreaker({
    probe: databaseAnswers,
    intervalMs: PROBE_INTERVAL_MS,
    onOpen: (cause) =>
      logger.warn('database unreachable: requests that need it answer 503 until it is back', { err: cause }),
    // Down for real, not one dropped connection: queries still queued in the pool would each
    // wait for their own connection attempt. They fail now, and the next queries after the
    // outage find a fresh pool.
    onConfirmed: () => replacePool(),
    onClose: (downForMs) => logger.info('database reachable again', { down_ms: downForMs }),
  })
  let client = connect()
  let current = drizzle(guardedPool(client, breaker), { schema })
  function replacePool() {
    const old = client
    client = connect()
    current = drizzle(guardedPool(client, breaker), { schema })
    void old.end({ timeout: 0 })
  }
  let lastReset = 0
  // Services keep this one object for the app's lifetime; it always speaks through the
  // current pool, so a reset needs no rewiring.
  const db = new Proxy({} as Db, { get: (_, key) => Reflect.get(current, key) })
  let changes: Promise<ChangeListener> | undefined
  return {
    db,
    driver: 'postgres',
    pooler,
    changes() {
      changes ??= import('./change-listener').then(({ listenPostgres, listenUrl, CHANGE_CHANNEL }) => {
        const url = listenUrl(target.url, options.sessionUrl && session.url, sessionPooler)
        return listenPostgres({
          url,
          ssl: url === session.url ? session.ssl : target.ssl,
          logger,
          why: `DATABASE_URL is a transaction pooler, which does not carry LISTEN, and there is no DATABASE_URL_DIRECT`,
          probe: () => client`select pg_notify(${CHANGE_CHANNEL}, '')`,
        })
      })
      return changes
    },
    async resetIfStuck() {
      if (breaker.isOpen || Date.now() - lastReset < RESET_INTERVAL_MS) return false
      lastReset = Date.now()
      const probe = client`select 1`
      const answered = await Promise.race([
        probe.then(() => true),
        Bun.sleep(PROBE_TIMEOUT_MS).then(() => false),
      ]).catch(() => false)
      if (answered) return false
      probe.cancel()
      replacePool()
      // Until a fresh connection answers, requests are refused at once rather than each
      // waiting out the request deadline.
      breaker.open(new Error(`the connection pool did not answer select 1 within ${PROBE_TIMEOUT_MS} ms`))
      return true
    },
    async withSession(fn) {
      const dedicated = postgres(session.url, {
        ssl: session.ssl,
        ...connectionOptions(sessionPooler),
        max: 1,
        connect_timeout: SESSION_CONNECT_TIMEOUT_MS / 1000,
        onnotice: () => {},
      })
      let connected = false
      try {
        // postgres.js reconnects without end to a server that accepts and closes at once (a
        // port that is not PostgreSQL): its connect timeout never fires. Bound it here, before
        // `fn`, which may rightly wait long for a lock.
        await answersWithin(dedicated`select 1`, SESSION_CONNECT_TIMEOUT_MS)
        connected = true
        return await fn(drizzle(dedicated, { schema }))
      } finally {
        await dedicated.end({ timeout: connected ? 5 : 0 })
      }
    },
    async close() {
      breaker.stop()
      if (changes) await (await changes.catch(() => undefined))?.close()
      await client.end({ timeout: 5 })
    },
  }
}

// PostgreSQL's default 128 MB of shared buffers is most of an embedded process's memory, all of
// it touched at start; a development database fits in far less.
const EMBEDDED_SETTINGS = ['shared_buffers = 16MB']

/**
 * Embedded PostgreSQL (PGlite); `dataDir` undefined keeps it in memory. A folder is open in one
 * process at a time: another process that has it open makes this throw DataDirInUseError.
 */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  const { pgliteAssets } = await import('./pglite-assets')
  const { seedDataDir } = await import('./pglite-image')
  // Taken before PGlite touches the folder; released only once PGlite has closed it.
  const lock = dataDir ? lockDataDir(dataDir) : undefined
  let client: InstanceType<typeof PGlite>
  try {
    if (dataDir) await seedDataDir(dataDir)
    client = new PGlite({ dataDir, ...(await pgliteAssets()), postgresqlconf: EMBEDDED_SETTINGS })
    await client.waitReady
  } catch (error) {
    lock?.release()
    throw error
  }
  const db = drizzle(client, { schema })
  // PGlite is one connection, so a "dedicated session" means taking turns: sessions run one
  // after another, as advisory-locked sessions would on Postgres.
  let turn: Promise<unknown> = Promise.resolve()
  let changes: Promise<ChangeListener> | undefined
  return {
    db,
    driver: 'pglite',
    pooler: 'none',
    changes() {
      changes ??= import('./change-listener').then(({ listenPglite }) => listenPglite(client))
      return changes
    },
    withSession(fn) {
      const run = turn.then(() => fn(db))
      turn = run.catch(() => {})
      return run
    },
    resetIfStuck: async () => false,
    async close() {
      if (changes) await (await changes.catch(() => undefined))?.close()
      await client.close()
      lock?.release()
    },
  }
}

/** Rows of a raw `db.execute`: postgres.js answers an array, PGlite an object with `rows`. */
export async function queryRows<T>(db: Db, query: Parameters<Db['execute']>[0]): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] }
  return Array.isArray(result) ? result : result.rows
}
