import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { type Database, type Db, queryRows } from './client'

// Inside a compiled binary the folder is embedded (`--asset ./drizzle`) at the virtual root.
export const MIGRATIONS_FOLDER = import.meta.dir.startsWith('/$bunfs')
  ? '/$bunfs/root/drizzle'
  : join(import.meta.dir, '../../drizzle')

// Any fixed 64-bit number works; all instances of todo-api must use the same one.
const MIGRATION_LOCK_KEY = 7_283_019_455_112n

/** `when` of the newest migration this build ships: /ready compares the database against it. */
export function latestMigrationTime(folder = MIGRATIONS_FOLDER): number {
  const files = readMigrationFiles({ migrationsFolder: folder })
  return files.at(-1)?.folderMillis ?? 0
}

/**
 * Applies pending migrations. Two instances starting together both get here: the advisory
 * lock makes the second wait, and then it finds nothing left to apply.
 */
export async function runMigrations(database: Database, folder = MIGRATIONS_FOLDER): Promise<void> {
  const config = { migrationsFolder: folder }
  // Both migrators take the same arguments; only their database types differ by driver.
  const { migrate } = (
    database.driver === 'pglite'
      ? await import('drizzle-orm/pglite/migrator')
      : await import('drizzle-orm/postgres-js/migrator')
  ) as { migrate: (db: Db, config: { migrationsFolder: string }) => Promise<void> }
  const locked = database.driver === 'postgres'
  await database.withSession(async (db) => {
    if (locked) await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`)
    try {
      await migrate(db, config)
    } finally {
      if (locked) await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`)
    }
  })
}

/** True when the database answers and has every migration this build ships. */
export async function isMigrated(db: Db, expectedTime: number): Promise<boolean> {
  const [row] = await queryRows<{ latest: string | null }>(
    db,
    sql`select max(created_at)::text as latest from drizzle.__drizzle_migrations`,
  )
  return Number(row?.latest ?? 0) >= expectedTime
}
