import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { createUserProvisioner } from '../src/auth/users'
import { type Database, openPglite, openPostgres, queryRows } from '../src/db/client'
import { isMigrated, latestMigrationTime, MIGRATIONS_FOLDER, runMigrations } from '../src/db/migrate'
import { tasks, users } from '../src/db/schema'
import { createScratchDatabase } from './support/database'
import { migrationsUpTo } from './support/migrations'

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
      await db.insert(users).values({ id: 'u1', email: 'A@x.io', passwordHash: 'hash' })
      const violation = (p: Promise<unknown>) =>
        p.then(
          () => 'stored',
          () => 'refused',
        )
      // One password login per address; users without a password may show any address.
      expect(await violation(db.insert(users).values({ id: 'u2', email: 'a@X.io', passwordHash: 'hash' }))).toBe(
        'refused',
      )
      expect(await violation(db.insert(users).values({ id: 'u3', email: 'a@X.io' }))).toBe('stored')
      expect(await violation(db.update(users).set({ passwordHash: 'hash' }).where(sql`id = 'u3'`))).toBe('refused')
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

  test('upgrading: emails that differ only in Unicode form keep one account per address, and nothing fails', async () => {
    const scratch = await createScratchDatabase()
    try {
      await runMigrations(scratch.database, { folder: migrationsUpTo('0003_organising_tasks') })
      const { db } = scratch.database
      // As the previous release stored them: lower-cased, in whatever Unicode form they came.
      const nguyetNfc = 'nguy\u1ec7t@example.com'
      const day = (d: number) => new Date(Date.UTC(2026, 0, d))
      // In SQL: the schema's later columns do not exist yet.
      const user = (id: string, email: string, passwordHash: string | null, created: Date) =>
        db.execute(sql`insert into users (id, email, password_hash, created_at, updated_at)
          values (${id}, ${email}, ${passwordHash}, ${created.toISOString()}, ${created.toISOString()})`)
      // "josé": an external user (no password) first, then a sign-up with the NFD spelling.
      await user('jose-external', 'jos\u00e9@example.com', null, day(1))
      await user('jose-nfd', 'jose\u0301@example.com', 'hash', day(2))
      // "nguyệt" in three spellings: precomposed, fully decomposed, half composed.
      await user('nguyet-nfc', nguyetNfc, null, day(1))
      await user('nguyet-nfd', 'nguye\u0323\u0302t@example.com', 'hash', day(2))
      await user('nguyet-mixed', 'nguy\u00ea\u0323t@example.com', 'hash', day(3))
      // No collision: only its spelling changes.
      await user('zoe', 'zoe\u0308@example.com', 'hash', day(1))
      await user('ada', 'ada@example.com', 'hash', day(1))
      await db.execute(sql`insert into tasks (user_id, title) values ('jose-external', 'still mine')`)

      await runMigrations(scratch.database)
      expect(await applied(scratch.database)).toBe(shipped)
      const rows = await db.select().from(users).orderBy(users.id)
      expect(rows.map((u) => [u.id, u.email])).toEqual([
        ['ada', 'ada@example.com'],
        // An account with a password keeps the address over an older one without.
        ['jose-external', null],
        ['jose-nfd', 'jos\u00e9@example.com'],
        ['nguyet-mixed', null],
        ['nguyet-nfc', null],
        // Of those with a password, the oldest.
        ['nguyet-nfd', nguyetNfc],
        ['zoe', 'zo\u00eb@example.com'],
      ])
      expect(rows.find((u) => u.id === 'ada')?.updatedAt).toEqual(day(1))
      expect((await db.select().from(tasks)).map((t) => [t.userId, t.title])).toEqual([['jose-external', 'still mine']])
      // The index now holds every writer to the same comparison.
      const refused = await db
        .insert(users)
        .values({ id: 'late', email: 'JOSE\u0301@example.com', passwordHash: 'hash' })
        .then(
          () => 'stored',
          () => 'refused',
        )
      expect(refused).toBe('refused')
    } finally {
      await scratch.drop()
    }
  })

  test('upgrading to emails unique among password accounts only: nothing changes, and an external user left without its address gets it with its next token', async () => {
    const scratch = await createScratchDatabase()
    try {
      await runMigrations(scratch.database, { folder: migrationsUpTo('0004_email_unicode_nfc') })
      const { db } = scratch.database
      // As the previous release left them: the external user's address belonged to Ada, so it got none.
      await db.execute(sql`insert into users (id, email, name, password_hash)
        values ('ada', 'ada@example.com', 'Ada', 'hash'), ('ext-ada', null, 'Ada', null)`)

      await runMigrations(scratch.database)
      const before = await db.select().from(users).orderBy(users.id)
      expect(before.map((u) => [u.id, u.email, u.passwordHash, u.profileClaims])).toEqual([
        ['ada', 'ada@example.com', 'hash', null],
        ['ext-ada', null, null, null],
      ])
      const provision = createUserProvisioner(db)
      await provision({ sub: 'ext-ada', email: 'Ada@Example.com', name: 'Ada L.', iat: Math.floor(Date.now() / 1000) })
      const after = await db.select().from(users).orderBy(users.id)
      expect(after.map((u) => [u.id, u.email, u.name, u.passwordHash])).toEqual([
        ['ada', 'ada@example.com', 'Ada', 'hash'],
        ['ext-ada', 'ada@example.com', 'Ada L.', null],
      ])
      const another = await db
        .insert(users)
        .values({ id: 'late', email: 'ADA@example.com', passwordHash: 'hash' })
        .then(
          () => 'stored',
          () => 'refused',
        )
      expect(another).toBe('refused')
    } finally {
      await scratch.drop()
    }
  })

  test('upgrading to marked local accounts: password accounts without token claims are local; the issuer then cannot sign in as them', async () => {
    const scratch = await createScratchDatabase()
    try {
      await runMigrations(scratch.database, { folder: migrationsUpTo('0005_external_identities') })
      const { db } = scratch.database
      await db.execute(sql`insert into users (id, email, name, password_hash, profile_claims, profile_claims_at)
        values ('signed-up', 'a@example.com', 'A', 'hash', null, null),
               ('ext', 'b@example.com', 'B', null, 'digest', now() - interval '1 hour'),
               ('ext-with-password', 'c@example.com', 'C', 'hash', 'digest', now() - interval '1 hour'),
               ('ext-bare', null, null, null, null, null)`)
      await runMigrations(scratch.database)
      const rows = await db.select().from(users).orderBy(users.id)
      expect(rows.map((u) => [u.id, u.localAccount])).toEqual([
        ['ext', false],
        ['ext-bare', false],
        ['ext-with-password', false],
        ['signed-up', true],
      ])
      const provision = createUserProvisioner(db)
      const iat = Math.floor(Date.now() / 1000)
      expect(
        await provision({ sub: 'signed-up', email: 'x@example.com', iat, fromIssuer: true }).catch((e) => e.status),
      ).toBe(401)
      await provision({ sub: 'ext-with-password', email: 'c2@example.com', iat, fromIssuer: true })
      const after = await db.select().from(users).orderBy(users.id)
      expect(after.map((u) => [u.id, u.email])).toEqual([
        ['ext', 'b@example.com'],
        ['ext-bare', null],
        ['ext-with-password', 'c2@example.com'],
        ['signed-up', 'a@example.com'],
      ])
    } finally {
      await scratch.drop()
    }
  })
})
