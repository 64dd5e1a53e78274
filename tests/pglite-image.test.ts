import { describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { openPglite, queryRows } from '../src/db/client'
import { isMigrated, latestMigrationTime, MIGRATIONS_FOLDER, runMigrations } from '../src/db/migrate'
import { IMAGE_MANIFEST_PATH, seedDataDir } from '../src/db/pglite-image'
import { tasks, users } from '../src/db/schema'

// A fresh DATA_DIR starts from the ready-made database the build carries (src/db/pglite-image.*,
// made by `bun run db:image`) instead of running initdb.

const manifest: { pglite: string; migrations: string[] } = await Bun.file(IMAGE_MANIFEST_PATH).json()
const freshDir = () => join(mkdtempSync(join(tmpdir(), 'todo-api-image-')), 'data', 'pglite')
const appliedHashes = async (db: Parameters<typeof queryRows>[0]) =>
  (await queryRows<{ hash: string }>(db, sql`select hash from drizzle.__drizzle_migrations order by created_at`)).map(
    (r) => r.hash,
  )

describe('the embedded database image', () => {
  test('was made by the PGlite this project installs (else run `bun run db:image`)', async () => {
    const installed = await Bun.file(join(import.meta.dir, '../node_modules/@electric-sql/pglite/package.json')).json()
    expect(manifest.pglite).toBe(installed.version)
  })

  test('holds shipped migrations only, in order: a prefix of drizzle/', () => {
    const shipped = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).map((m) => m.hash)
    expect(manifest.migrations.length).toBeGreaterThan(0)
    expect(shipped.slice(0, manifest.migrations.length)).toEqual(manifest.migrations)
  })

  test('a fresh folder gets the image: the migrations it lists, then the rest at start, and it works', async () => {
    const dir = freshDir()
    const database = await openPglite(dir)
    try {
      expect(await appliedHashes(database.db)).toEqual(manifest.migrations)
      await runMigrations(database)
      expect(await isMigrated(database.db, latestMigrationTime())).toBe(true)
      await database.db.insert(users).values({ id: 'u1' })
      await database.db.insert(tasks).values({ userId: 'u1', title: 'first' })
      const [settings] = await queryRows<{ shared_buffers: string }>(database.db, sql`show shared_buffers`)
      expect(settings?.shared_buffers).toBe('16MB')
    } finally {
      await database.close()
    }
  }, 30_000)

  test('a folder that has a database is left as it is', async () => {
    const dir = freshDir()
    const first = await openPglite(dir)
    await runMigrations(first)
    await first.db.insert(users).values({ id: 'u1' })
    await first.db.insert(tasks).values({ userId: 'u1', title: 'kept' })
    await first.close()
    expect(await seedDataDir(dir)).toBe(false)
    const reopened = await openPglite(dir)
    try {
      expect((await reopened.db.select().from(tasks)).map((t) => t.title)).toEqual(['kept'])
    } finally {
      await reopened.close()
    }
  }, 30_000)

  test('what a start that died half-way left (no PG_VERSION, an unpacked image beside) is replaced', async () => {
    const dir = freshDir()
    mkdirSync(join(dir, 'base'), { recursive: true })
    writeFileSync(join(dir, 'base', 'half-written'), 'x')
    const abandoned = `${dir}.seed-999999`
    mkdirSync(abandoned)
    writeFileSync(join(abandoned, 'PG_VERSION'), '17\n')
    expect(await seedDataDir(dir)).toBe(true)
    expect(existsSync(abandoned)).toBe(false)
    expect(existsSync(join(dir, 'base', 'half-written'))).toBe(false)
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true)
    const database = await openPglite(dir)
    try {
      await runMigrations(database)
      expect(await isMigrated(database.db, latestMigrationTime())).toBe(true)
    } finally {
      await database.close()
    }
  }, 30_000)
})
