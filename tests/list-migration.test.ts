import { describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { generateKeyBetween } from 'fractional-indexing'
import { type Db, queryRows } from '../src/db/client'
import { runMigrations } from '../src/db/migrate'
import { createScratchDatabase } from './support/database'
import { migrationsUpTo } from './support/migrations'

interface ListOut {
  user_id: string
  name: string
  is_default: boolean
  open_count: number
  completed_count: number
}

const listsOf = (db: Db) =>
  queryRows<ListOut>(
    db,
    sql`select user_id, name, is_default, open_count, completed_count from lists order by user_id, id`,
  )
const countsOf = (db: Db, title: string) =>
  queryRows<{ subtask_count: number; completed_subtask_count: number }>(
    db,
    sql`select subtask_count, completed_subtask_count from tasks where title = ${title}`,
  ).then((rows) => rows[0])

describe('migration 0007_lists', () => {
  test('existing users get an Inbox holding their tasks, ordered as listed before; counts follow every change', async () => {
    const scratch = await createScratchDatabase()
    try {
      await runMigrations(scratch.database, { folder: migrationsUpTo('0006_local_accounts') })
      const { db } = scratch.database
      await db.execute(sql`insert into users (id) values ('ada'), ('bob'), ('cy')`)
      // Same created_at for two tasks: ties were listed by id, descending.
      await db.execute(sql`insert into tasks (user_id, title, completed, completed_at, created_at) values
        ('ada', 'oldest', false, null, '2026-01-01T00:00:00Z'),
        ('ada', 'tie low id', true, now(), '2026-01-02T00:00:00Z'),
        ('ada', 'tie high id', false, null, '2026-01-02T00:00:00Z'),
        ('ada', 'newest', false, null, '2026-01-03T00:00:00Z'),
        ('bob', 'bob only', true, now(), '2026-01-01T00:00:00Z')`)

      await runMigrations(scratch.database)
      expect(await listsOf(db)).toEqual([
        { user_id: 'ada', name: 'Inbox', is_default: true, open_count: 3, completed_count: 1 },
        { user_id: 'bob', name: 'Inbox', is_default: true, open_count: 0, completed_count: 1 },
        { user_id: 'cy', name: 'Inbox', is_default: true, open_count: 0, completed_count: 0 },
      ])
      const ada = await queryRows<{ title: string; position: string; parent_id: number | null; outline: string }>(
        db,
        sql`select t.title, t.position, t.parent_id, t.outline, l.id as list_id from tasks t
            join lists l on l.id = t.list_id and l.user_id = t.user_id
            where t.user_id = 'ada' order by t.position collate "C"`,
      )
      expect(ada.map((t) => t.title)).toEqual(['newest', 'tie high id', 'tie low id', 'oldest'])
      expect(ada.map((t) => t.position)).toEqual(['d0000', 'd0001', 'd0002', 'd0003'])
      expect(ada.every((t) => t.parent_id === null && t.outline.endsWith(`/${t.position}`))).toBe(true)
      // The keys are ones the library continues from: a new task goes before the first.
      expect(generateKeyBetween(null, 'd0000') < 'd0000').toBe(true)

      // New users get their Inbox, whoever inserts them; tasks without a list go to it.
      await db.execute(sql`insert into users (id) values ('dee')`)
      await db.execute(sql`insert into tasks (user_id, title) values ('dee', 'parent')`)
      const [parent] = await queryRows<{ id: number }>(db, sql`select id from tasks where title = 'parent'`)
      await db.execute(sql`insert into tasks (user_id, title, parent_id, position) values
        ('dee', 'child a', ${parent?.id}, 'a0'), ('dee', 'child b', ${parent?.id}, 'a1')`)
      expect(await countsOf(db, 'parent')).toEqual({ subtask_count: 2, completed_subtask_count: 0 })
      await db.execute(sql`update tasks set completed = true, completed_at = now() where title = 'child a'`)
      expect(await countsOf(db, 'parent')).toEqual({ subtask_count: 2, completed_subtask_count: 1 })
      const dee = async () => (await listsOf(db)).find((l) => l.user_id === 'dee')
      expect(await dee()).toMatchObject({ name: 'Inbox', open_count: 2, completed_count: 1 })
      await db.execute(sql`delete from tasks where title = 'child b'`)
      expect(await countsOf(db, 'parent')).toEqual({ subtask_count: 1, completed_subtask_count: 1 })
      // Deleting the parent deletes its subtasks, and the list's counts follow.
      await db.execute(sql`delete from tasks where title = 'parent'`)
      expect(await dee()).toMatchObject({ open_count: 0, completed_count: 0 })
      expect(await queryRows(db, sql`select id from tasks where user_id = 'dee'`)).toEqual([])
      // One default list per user, and names unique per user whatever their case.
      const refused = (q: Promise<unknown>) =>
        q.then(
          () => 'stored',
          () => 'refused',
        )
      expect(
        await refused(
          db.execute(sql`insert into lists (user_id, name, position, is_default) values ('dee', 'Two', 'a1', true)`),
        ),
      ).toBe('refused')
      expect(
        await refused(db.execute(sql`insert into lists (user_id, name, position) values ('dee', 'INBOX', 'a1')`)),
      ).toBe('refused')
      // A task can never sit in another user's list.
      const [bobList] = await queryRows<{ id: number }>(db, sql`select id from lists where user_id = 'bob'`)
      expect(
        await refused(db.execute(sql`insert into tasks (user_id, title, list_id) values ('dee', 'x', ${bobList?.id})`)),
      ).toBe('refused')
    } finally {
      await scratch.drop()
    }
  }, 60_000)
})
