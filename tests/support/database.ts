import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { type Database, openPglite, openPostgres } from '../../src/db/client'
import { runMigrations } from '../../src/db/migrate'
import type { PoolerMode } from '../../src/db/pooler'
import { BINARY } from './binary'
import { type PgBouncer, startPgBouncer } from './pgbouncer'

/** Set for the real-Postgres run; unset runs everything on embedded PGlite. */
export const TEST_DATABASE_URL = Bun.env.TEST_DATABASE_URL || undefined
export const backend = TEST_DATABASE_URL ? 'postgres' : 'pglite'
/** `pgbouncer` runs the app through a PgBouncer in transaction mode (PostgreSQL runs only). */
export const TEST_POOLER = Bun.env.TEST_POOLER || undefined
if (TEST_POOLER && !TEST_DATABASE_URL)
  throw new Error('TEST_POOLER needs TEST_DATABASE_URL: the pooler fronts PostgreSQL')
/** The pooler mode the app under test should report. */
export const TEST_POOLER_MODE: PoolerMode = TEST_POOLER ? 'transaction' : 'none'
/** What an operator sets beside a pooled DATABASE_URL whose port gives nothing away. */
export const poolerEnv = (): Record<string, string> => (TEST_POOLER ? { DATABASE_POOLER: TEST_POOLER_MODE } : {})

export interface ScratchDatabase {
  database: Database
  /**
   * The URL of the scratch database: on Postgres always; on PGlite when the binary is under
   * test, which then reaches this process's PGlite through a Postgres-protocol socket.
   */
  url?: string
  drop(): Promise<void>
}

function withDatabaseName(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/**
 * A brand-new, empty database of the backend under test: its own Postgres database (created
 * here, dropped by `drop`), or a fresh in-memory PGlite.
 */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  if (!TEST_DATABASE_URL) {
    const database = await openPglite(undefined)
    if (!BINARY) return { database, drop: () => database.close() }
    return servedOverSocket(database)
  }
  const name = `todo_test_${process.pid}_${crypto.randomUUID().slice(0, 8)}`
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  await admin.end()
  const direct = withDatabaseName(TEST_DATABASE_URL, name)
  const url = TEST_POOLER ? (await runPooler()).url(direct) : direct
  const database = await openPostgres(url, { pooler: TEST_POOLER_MODE })
  return {
    database,
    url,
    async drop() {
      await database.close()
      const dropper = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
      await dropper.unsafe(`drop database if exists "${name}" with (force)`)
      await dropper.end()
    },
  }
}

let pooler: Promise<PgBouncer> | undefined

/** The run's PgBouncer (TEST_POOLER=pgbouncer), in front of TEST_DATABASE_URL's server. */
function runPooler(): Promise<PgBouncer> {
  if (TEST_POOLER !== 'pgbouncer') throw new Error(`TEST_POOLER=${TEST_POOLER}: only pgbouncer is supported`)
  pooler ??= startPgBouncer(TEST_DATABASE_URL as string)
  return pooler
}

/**
 * Makes an in-memory PGlite reachable as `postgres://127.0.0.1:<port>/postgres`, so that the
 * binary under test runs on the PGlite engine while this process can still read and reset it.
 * The binary's own embedded mode (its PGlite files inside the executable) is covered by
 * scripts/smoke-binary.ts.
 */
async function servedOverSocket(database: Database): Promise<ScratchDatabase> {
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const pglite = (database.db as unknown as { $client: import('@electric-sql/pglite').PGlite }).$client
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 100 })
  runExchangesWhole(server)
  await server.start()
  const port = Number(server.getServerConn().split(':').at(-1))
  return {
    database,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async drop() {
      await server.stop()
      await database.close()
    },
  }
}

interface MessageQueue {
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>
}

// Parse, Bind, Describe, Execute, Close: parts of an extended-protocol exchange, which runs
// up to a Sync (or a Flush, after which the client waits for the answer).
const EXCHANGE_PARTS = new Set([0x50, 0x42, 0x44, 0x45, 0x43])

/**
 * The socket server queues each protocol message of each connection on its own, so the
 * messages of two connections interleave on PGlite's single session: one connection's Bind
 * replaced another's unnamed portal before its Execute ("portal \"\" does not exist"), and the
 * binary under test failed whenever several requests used the database at once. Here each
 * connection's exchange is queued as one unit, as a server with a session per connection
 * would keep it apart. (The queue still keeps a transaction's units together.)
 */
function runExchangesWhole(server: object): void {
  const queue = (server as { queryQueue: MessageQueue }).queryQueue
  const enqueue = queue.enqueue.bind(queue)
  const pending = new Map<number, Uint8Array[]>()
  queue.enqueue = (handlerId, message, onData) => {
    const parts = pending.get(handlerId) ?? []
    parts.push(message)
    if (EXCHANGE_PARTS.has(message[0] as number)) {
      pending.set(handlerId, parts)
      return Promise.resolve(0)
    }
    pending.delete(handlerId)
    return enqueue(handlerId, parts.length === 1 ? message : Buffer.concat(parts), onData)
  }
}

/** For hooks that drop a database: it waits for a checkpoint, seconds on a busy server. */
export const DROP_TIMEOUT_MS = 60_000

let shared: Promise<ScratchDatabase> | undefined

/** The run's database, created and migrated on first use. */
export function sharedDatabase(): Promise<ScratchDatabase> {
  shared ??= createScratchDatabase().then(async (scratch) => {
    await runMigrations(scratch.database)
    return scratch
  })
  return shared
}

export async function dropSharedDatabase(): Promise<void> {
  if (shared) await (await shared).drop()
  // The test runner does not reliably emit `exit`: a pooler left running outlives the run.
  if (pooler) await (await pooler).stop()
}

/** Empties every table between tests; ids restart so failures read the same on each run. */
export async function resetDatabase(): Promise<void> {
  const { database } = await sharedDatabase()
  await database.db.execute(
    sql`truncate table tasks, lists, refresh_tokens, sessions, login_failures, users restart identity cascade`,
  )
}
