import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import type { Db } from '../src/db/client'
import { createTask, getTask } from '../src/modules/tasks/service'
import { storedToTask } from '../src/modules/trash/model'
import { listTrash, type TrashItem, trashTask } from '../src/modules/trash/service'
import { sharedDatabase } from './support/database'

// A task's reminders come as one jsonb column, and the trash keeps tasks as jsonb: PostgreSQL
// writes their instants in the session's time zone: the server's default, which need not be UTC. Before standard time a zone
// kept its local mean time, New York's 4:56:02 behind UTC, which jsonb writes as "-04:56:02" (an
// offset with seconds, which JavaScript's Date cannot read).

let db: Db

beforeEach(async () => {
  db = (await sharedDatabase()).database.db
  await db.execute(sql`insert into users (id) values ('alice')`)
})

/** Runs `fn` in a transaction whose session time zone is `zone`, then undoes everything. */
async function inZone(zone: string, fn: (tx: Db) => Promise<void>) {
  const rollback = new Error('rollback')
  await db
    .transaction(async (tx) => {
      await tx.execute(sql`select set_config('TimeZone', ${zone}, true)`)
      await fn(tx)
      throw rollback
    })
    .catch((error) => {
      if (error !== rollback) throw error
    })
}

describe('reminders read back whatever the session time zone', () => {
  test.each([
    ['Europe/Amsterdam', '1850-01-01T00:00:00.000Z'],
    ['America/New_York', '1850-06-01T12:00:00.000Z'],
    ['Asia/Kathmandu', '0001-01-01T00:00:00.000Z'],
    ['Europe/Berlin', '2027-03-28T01:30:00.000Z'],
  ])('%s: an instant of %s, as the task and the trash show it', async (zone, instant) => {
    await inZone(zone, async (tx) => {
      const { id } = await createTask(tx, 'alice', { title: 't', reminders: [{ at: instant }] })
      const expected = [{ id: expect.any(Number), at: instant, before: null, fire_at: null }]
      if (Date.parse(instant) > Date.now()) expected[0] = { ...expected[0], fire_at: instant } as never
      expect((await getTask(tx, 'alice', id))?.reminders).toEqual(expected)
      await trashTask(tx, 'alice', id)
      const trashed = (await listTrash(tx, 'alice', 10)).items.map((item) => item.reminders)
      expect(trashed).toEqual([[{ ...expected[0], fire_at: null } as never]])
    })
  })
})

describe('the trash reads its tasks back whatever the session time zone', () => {
  test.each([
    ['America/New_York', '1850-06-01T12:00:00.000Z'],
    ['Asia/Kathmandu', '0001-01-01T00:00:00.000Z'],
  ])('%s: a task due at %s', async (zone, due) => {
    await inZone(zone, async (tx) => {
      const { id } = await createTask(tx, 'alice', { title: 't', due_date: due })
      await trashTask(tx, 'alice', id)
      const [item] = (await listTrash(tx, 'alice', 10)).items as TrashItem[]
      expect(storedToTask((item as TrashItem).task, []).due_date).toBe(due)
    })
  })
})
