import { describe, expect, test } from 'bun:test'
import postgres from 'postgres'
import { openPostgres } from '../src/db/client'
import { MigrationLockTimeoutError, runMigrations } from '../src/db/migrate'
import { createLogger } from '../src/logger'
import { createScratchDatabase, TEST_DATABASE_URL } from './support/database'

// The key todo-api's migrations lock (src/db/migrate.ts); older releases took it per session.
const KEY = '7283019455112'

const withLines = () => {
  const lines: Record<string, unknown>[] = []
  return { lines, logger: createLogger('debug', (line) => lines.push(JSON.parse(line))) }
}

const advisoryLocks = async (sql: postgres.Sql) =>
  (
    await sql`select count(*)::int as n from pg_locks where locktype = 'advisory'
      and database = (select oid from pg_database where datname = current_database())`
  )[0]?.n

// Contention needs a second session, which the embedded database does not have.
describe.skipIf(!TEST_DATABASE_URL)('the migration lock', () => {
  test('a leaked session lock: a log line naming its holder while waiting, then one clear error at the time limit', async () => {
    const scratch = await createScratchDatabase()
    const holder = postgres(scratch.url as string, { max: 1, onnotice: () => {} })
    try {
      const [{ pid }] = (await holder`select pg_backend_pid() as pid, pg_advisory_lock(${KEY}::bigint)`) as [
        { pid: number },
      ]
      const { lines, logger } = withLines()
      const started = performance.now()
      const error = await runMigrations(scratch.database, { logger, lockTimeoutSeconds: 1 }).catch((e) => e)
      expect(performance.now() - started).toBeLessThan(5000)
      expect(error).toBeInstanceOf(MigrationLockTimeoutError)
      expect(error.message).not.toContain('\n')
      expect(error.message).toStartWith('migrations gave up after waiting 1 s for the migration lock: ')
      expect(error.message).toContain(`PostgreSQL process ${pid} `)
      expect(error.message).toContain('outside any transaction, a session lock left behind')
      const waiting = lines.find((l) => l.msg === 'waiting for the migration lock')
      expect(waiting).toMatchObject({ level: 'warn', timeout_s: 1 })
      expect(String(waiting?.holder)).toContain(`PostgreSQL process ${pid} `)
      // Nothing was applied, and the waiting transaction left no lock behind.
      const [{ n }] =
        (await holder`select count(*)::int as n from information_schema.tables where table_name = 'tasks'`) as [
          { n: number },
        ]
      expect(n).toBe(0)
      await holder`select pg_advisory_unlock(${KEY}::bigint)`
      expect(await advisoryLocks(holder)).toBe(0)
      await runMigrations(scratch.database, { lockTimeoutSeconds: 1 })
      expect(await advisoryLocks(holder)).toBe(0)
    } finally {
      await holder.end()
      await scratch.drop()
    }
  })

  test('another instance migrating: the second waits, is told who, and then finds nothing left to do', async () => {
    const scratch = await createScratchDatabase()
    const second = await openPostgres(scratch.url as string)
    const holder = postgres(scratch.url as string, { max: 1, onnotice: () => {} })
    try {
      const { lines, logger } = withLines()
      let waited: Promise<void> | undefined
      await holder.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(${KEY}::bigint)`
        waited = runMigrations(second, { logger, lockTimeoutSeconds: 30 })
        for (let i = 0; i < 200 && !lines.some((l) => l.msg === 'waiting for the migration lock'); i++)
          await Bun.sleep(10)
      })
      await waited
      const waiting = lines.find((l) => l.msg === 'waiting for the migration lock')
      expect(String(waiting?.holder)).toContain('in a transaction started ')
      expect(String(waiting?.holder)).toContain('another instance is migrating')
      expect(lines.some((l) => l.msg === 'migration lock acquired')).toBe(true)
      expect(await advisoryLocks(holder)).toBe(0)
    } finally {
      await holder.end()
      await second.close()
      await scratch.drop()
    }
  })
})
