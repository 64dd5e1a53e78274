import { describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { openPostgres, queryRows } from '../src/db/client'
import { startPeriodic } from '../src/jobs/periodic'
import { createLogger } from '../src/logger'
import { createTask } from '../src/modules/tasks/service'
import { lockUser } from '../src/modules/tasks/tree'
import { trashPurgeJob } from '../src/modules/trash/purge-job'
import { purgeExpiredTrash, trashTask } from '../src/modules/trash/service'
import { sharedDatabase, TEST_DATABASE_URL } from './support/database'

// The purge job runs in every instance of the API; these tests run it as two instances do:
// two clients of one database (on the embedded database, which serves one process, the same
// client twice: its transactions take turns).

const RETENTION = 30 * 86400
const db = async () => (await sharedDatabase()).database.db

async function secondInstance() {
  const shared = await sharedDatabase()
  if (!shared.url) return { db: shared.database.db, close: async () => {} }
  const other = await openPostgres(shared.url)
  return { db: other.db, close: () => other.close() }
}

const rows = async <T>(query: ReturnType<typeof sql>) => queryRows<T>(await db(), query)

/** A user with `items` trashed tasks, each with one subtask, trashed at `at`. */
async function userWithTrash(id: string, items: number, at: string) {
  const database = await db()
  await database.execute(sql`insert into users (id) values (${id})`)
  const roots: number[] = []
  for (let i = 0; i < items; i++) {
    const root = await createTask(database, id, { title: `item ${i}` })
    await createTask(database, id, { title: `sub ${i}`, parent_id: root.id })
    await trashTask(database, id, root.id)
    roots.push(root.id)
  }
  await database.execute(sql`update trash set deleted_at = ${at}::timestamptz where user_id = ${id}`)
  return roots
}

const syncSeq = async (id: string) =>
  (await rows<{ sync_seq: number }>(sql`select sync_seq from users where id = ${id}`))[0]?.sync_seq as number
const trashOf = async (id: string) =>
  (await rows<{ task_id: number }>(sql`select task_id from trash where user_id = ${id} order by task_id`)).map(
    (r) => r.task_id,
  )
const reasons = (id: string) =>
  rows<{ reason: string; n: number }>(
    sql`select reason, count(*)::int as n from tombstones where user_id = ${id} group by reason order by reason`,
  )

describe('the trash purge', () => {
  test('purges only items older than TRASH_RETENTION by the clock it is given', async () => {
    await userWithTrash('ann', 1, '2026-01-01T00:00:00Z')
    const newer = await userWithTrash('ann2', 1, '2026-01-20T00:00:00Z')
    const database = await db()
    const seq = await syncSeq('ann')

    const first = await purgeExpiredTrash(database, {
      now: new Date('2026-02-01T00:00:00Z'),
      retentionSeconds: RETENTION,
    })
    expect(first).toEqual({ items: 1, tasks: 2 })
    expect(await trashOf('ann')).toEqual([])
    expect(await trashOf('ann2')).toEqual(newer)
    expect(await syncSeq('ann')).toBe(seq + 2)
    expect(await reasons('ann')).toEqual([{ reason: 'purged', n: 2 }])
    expect(await reasons('ann2')).toEqual([{ reason: 'trashed', n: 2 }])

    // Exactly 30 days old is not older than 30 days; a millisecond later it is.
    const exact = new Date('2026-02-19T00:00:00Z')
    expect(await purgeExpiredTrash(database, { now: exact, retentionSeconds: RETENTION })).toEqual({
      items: 0,
      tasks: 0,
    })
    const later = new Date(exact.getTime() + 1)
    expect(await purgeExpiredTrash(database, { now: later, retentionSeconds: RETENTION })).toEqual({
      items: 1,
      tasks: 2,
    })
    expect(await trashOf('ann2')).toEqual([])
  })

  test('two instances purging at once: each item is purged exactly once', async () => {
    const users = ['u1', 'u2', 'u3']
    for (const id of users) await userWithTrash(id, 8, '2025-01-01T00:00:00Z')
    const before = new Map<string, number>()
    for (const id of users) before.set(id, await syncSeq(id))
    const second = await secondInstance()
    try {
      const options = { now: new Date('2026-01-01T00:00:00Z'), retentionSeconds: RETENTION, batchSize: 3 }
      const results = await Promise.all([purgeExpiredTrash(await db(), options), purgeExpiredTrash(second.db, options)])
      expect(results.reduce((sum, r) => sum + r.items, 0)).toBe(24)
      expect(results.reduce((sum, r) => sum + r.tasks, 0)).toBe(48)
    } finally {
      await second.close()
    }
    for (const id of users) {
      expect(await trashOf(id)).toEqual([])
      // One change number per purged task: none purged twice.
      expect(await syncSeq(id)).toBe((before.get(id) as number) + 16)
      expect(await reasons(id)).toEqual([{ reason: 'purged', n: 16 }])
      const seqs = await rows<{ seq: number }>(sql`select seq from tombstones where user_id = ${id} order by seq`)
      expect(seqs.at(-1)?.seq).toBe(await syncSeq(id))
    }
  })

  // Holding one user's turn while another client purges needs a second session.
  test.skipIf(!TEST_DATABASE_URL)('a user whose turn another instance holds is skipped, not waited for', async () => {
    await userWithTrash('busy', 2, '2025-01-01T00:00:00Z')
    await userWithTrash('free', 2, '2025-01-01T00:00:00Z')
    const second = await secondInstance()
    let release = () => {}
    let held = () => {}
    const holding = new Promise<void>((resolve) => {
      held = resolve
    })
    const holder = second.db.transaction(async (tx) => {
      await lockUser(tx, 'busy')
      held()
      await new Promise<void>((resolve) => {
        release = resolve
      })
    })
    try {
      await holding
      const options = { now: new Date('2026-01-01T00:00:00Z'), retentionSeconds: RETENTION }
      expect(await purgeExpiredTrash(await db(), options)).toEqual({ items: 2, tasks: 4 })
      expect(await trashOf('free')).toEqual([])
      expect((await trashOf('busy')).length).toBe(2)
      release()
      await holder
      expect(await purgeExpiredTrash(await db(), options)).toEqual({ items: 2, tasks: 4 })
      expect(await trashOf('busy')).toEqual([])
    } finally {
      release()
      await holder
      await second.close()
    }
  })

  test('as a periodic job: purges by the clock it is given, and logs what it purged', async () => {
    await userWithTrash('old', 1, '2026-01-01T00:00:00Z')
    await userWithTrash('recent', 1, '2026-03-01T00:00:00Z')
    const lines: Record<string, unknown>[] = []
    const logger = createLogger('debug', (line) => lines.push(JSON.parse(line)))
    const run = trashPurgeJob(await db(), logger, RETENTION, () => new Date('2026-03-15T00:00:00Z'))
    const stop = startPeriodic(5, run, { name: 'trash-purge', logger })
    for (let i = 0; i < 400 && !lines.some((l) => l.msg === 'job ran'); i++) await Bun.sleep(5)
    await stop()
    expect(await trashOf('old')).toEqual([])
    expect((await trashOf('recent')).length).toBe(1)
    expect(lines.find((l) => l.msg === 'trash purged')).toMatchObject({ items: 1, tasks: 2 })
    expect(lines.filter((l) => l.msg === 'job failed')).toEqual([])
  })
})
