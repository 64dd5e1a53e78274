import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import postgres from 'postgres'
import { type Database, openPostgres, queryRows } from '../src/db/client'
import { MIGRATIONS_FOLDER, runMigrations } from '../src/db/migrate'
import { createScratchDatabase, DROP_TIMEOUT_MS, type ScratchDatabase, TEST_DATABASE_URL } from './support/database'
import { type PgBouncer, startPgBouncer } from './support/pgbouncer'

const shipped = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length

// A real PgBouncer (Debian's package) in transaction mode, with two server connections per
// database: every client shares them, so anything left on one reaches another client.
describe.skipIf(!TEST_DATABASE_URL)('through a transaction-mode PgBouncer', () => {
  let bouncer: PgBouncer
  let scratch: ScratchDatabase
  let direct: postgres.Sql
  let pooled: string
  const opened: Database[] = []
  const open = async (mode: 'transaction' | 'none') => {
    const database = await openPostgres(pooled, { pooler: mode })
    opened.push(database)
    return database
  }

  beforeAll(async () => {
    bouncer = await startPgBouncer(TEST_DATABASE_URL as string, { poolSize: 2 })
    scratch = await createScratchDatabase()
    // The scratch database's own URL, direct or (TEST_POOLER) through the run's pooler.
    const url = new URL(scratch.url as string)
    url.host = new URL(TEST_DATABASE_URL as string).host
    direct = postgres(url.toString(), { max: 1, onnotice: () => {} })
    pooled = bouncer.url(url.toString())
  })
  afterAll(async () => {
    for (const database of opened) await database.close()
    await direct.end()
    await scratch.drop()
    await bouncer.stop()
  }, DROP_TIMEOUT_MS)

  const advisoryLocks = async () =>
    (
      (await direct`select count(*)::int as n from pg_locks where locktype = 'advisory'
      and database = (select oid from pg_database where datname = current_database())`) as [{ n: number }]
    )[0].n

  test('the startup parameters are accepted, and a transaction as the very first query works', async () => {
    const database = await open('transaction')
    const rows = await database.db.transaction((tx) => queryRows<{ one: number }>(tx, sql`select 1 as one`))
    expect(rows).toEqual([{ one: 1 }])
    // What the pooler refuses, so that this test means something: the direct settings.
    const unpooled = await open('none')
    const refused = await queryRows(unpooled.db, sql`select 1`).catch((e) => e)
    expect(String(refused?.cause?.message ?? refused)).toContain('unsupported startup parameter: plan_cache_mode')
  })

  test('migrations through the pooler, repeatedly and four at a time: each applied once, no lock left', async () => {
    for (let round = 0; round < 3; round++) {
      const instances = await Promise.all([1, 2, 3, 4].map(() => open('transaction')))
      await Promise.all(instances.map((database) => runMigrations(database, { lockTimeoutSeconds: 20 })))
      expect(await advisoryLocks()).toBe(0)
      const [{ n }] = (await direct`select count(*)::int as n from drizzle.__drizzle_migrations`) as [{ n: number }]
      expect(n).toBe(shipped)
    }
    // An instance started afterwards, with a short limit, finds the lock free at once.
    const started = performance.now()
    await runMigrations(await open('transaction'), { lockTimeoutSeconds: 1 })
    expect(performance.now() - started).toBeLessThan(1000)
  })

  test('many queries at once from one pool: every answer is its own', async () => {
    const database = await open('transaction')
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const tag = `q${i}`
        // Parameterless, parameterised and transactional queries, mixed: pipelining them
        // through PgBouncer 1.18 used to hang.
        if (i % 3 === 0) return queryRows<{ v: string }>(database.db, sql.raw(`select '${tag}' as v`))
        if (i % 3 === 1) return queryRows<{ v: string }>(database.db, sql`select ${tag}::text as v`)
        return database.db.transaction((tx) => queryRows<{ v: string }>(tx, sql`select ${tag}::text as v`))
      }),
    )
    expect(answers.map((rows) => rows[0]?.v)).toEqual(Array.from({ length: 300 }, (_, i) => `q${i}`))
  })
})
