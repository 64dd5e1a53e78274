import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { type Database, openPglite, openPostgres, queryRows } from '../src/db/client'
import { isMigrated, latestMigrationTime, MIGRATIONS_FOLDER, runMigrations } from '../src/db/migrate'
import { tasks, users } from '../src/db/schema'
import { createScratchDatabase } from './support/database'

const shipped = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length

const applied = async (database: Database) =>
  (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`))[0]?.n

describe('migrations', () => {
  test('two instances migrating one fresh database at the same time: both succeed, each migration runs once', async () => {
    const scratch = await createScratchDatabase()
    // On Postgres the second instance is a second client with its own connections.
    const second = scratch.url ? await openPostgres(scratch.url) : scratch.database
    try {
      expect(await isMigrated(scratch.database.db, latestMigrationTime()).catch(() => false)).toBe(false)
      await Promise.all([runMigrations(scratch.database), runMigrations(second)])
      expect(await applied(scratch.database)).toBe(shipped)
      expect(await isMigrated(scratch.database.db, latestMigrationTime())).toBe(true)
      await runMigrations(second)
      expect(await applied(scratch.database)).toBe(shipped)
    } finally {
      if (second !== scratch.database) await second.close()
      await scratch.drop()
    }
  })

  // A cold PGlite start takes several seconds on these machines.
  test('the embedded database keeps its data across a restart', async () => {
    // Two levels that do not exist yet, as with a fresh DATA_DIR.
    const dir = join(mkdtempSync(join(tmpdir(), 'todo-api-pglite-')), 'data', 'pglite')
    const first = await openPglite(dir)
    await runMigrations(first)
    await first.db.insert(users).values({ id: 'u1' })
    await first.db.insert(tasks).values({ userId: 'u1', title: 'survives' })
    await first.close()
    const reopened = await openPglite(dir)
    try {
      await runMigrations(reopened)
      const rows = await reopened.db.select().from(tasks)
      expect(rows.map((r) => r.title)).toEqual(['survives'])
    } finally {
      await reopened.close()
    }
  }, 30_000)

  test('SQL constraints hold even for writes that bypass the API', async () => {
    const scratch = await createScratchDatabase()
    try {
      await runMigrations(scratch.database)
      const { db } = scratch.database
      await db.insert(users).values({ id: 'u1', email: 'A@x.io' })
      const violation = (p: Promise<unknown>) =>
        p.then(
          () => 'stored',
          () => 'refused',
        )
      expect(await violation(db.insert(users).values({ id: 'u2', email: 'a@X.io' }))).toBe('refused')
      expect(await violation(db.insert(tasks).values({ userId: 'u1', title: '' }))).toBe('refused')
      expect(await violation(db.insert(tasks).values({ userId: 'u1', title: 'x'.repeat(256) }))).toBe('refused')
      expect(await violation(db.insert(tasks).values({ userId: 'u1', title: '😀'.repeat(255) }))).toBe('stored')
      expect(
        await violation(db.insert(tasks).values({ userId: 'u1', title: 'a', description: 'd'.repeat(1001) })),
      ).toBe('refused')
      expect(await violation(db.insert(tasks).values({ userId: 'nobody', title: 'a' }))).toBe('refused')
      await db.delete(users).where(sql`id = 'u1'`)
      expect(await db.select().from(tasks)).toEqual([])
    } finally {
      await scratch.drop()
    }
  })
})
