import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { type Database, openPglite, openPostgres } from '../../src/db/client'
import { runMigrations } from '../../src/db/migrate'

/** Set for the real-Postgres run; unset runs everything on embedded PGlite. */
export const TEST_DATABASE_URL = Bun.env.TEST_DATABASE_URL || undefined
export const backend = TEST_DATABASE_URL ? 'postgres' : 'pglite'

export interface ScratchDatabase {
  database: Database
  /** The URL of the scratch database (Postgres only). */
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
    return { database, drop: () => database.close() }
  }
  const name = `todo_test_${process.pid}_${crypto.randomUUID().slice(0, 8)}`
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  await admin.end()
  const url = withDatabaseName(TEST_DATABASE_URL, name)
  const database = await openPostgres(url)
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
}

/** Empties every table between tests; ids restart so failures read the same on each run. */
export async function resetDatabase(): Promise<void> {
  const { database } = await sharedDatabase()
  await database.db.execute(
    sql`truncate table tasks, refresh_tokens, sessions, login_failures, users restart identity cascade`,
  )
}
