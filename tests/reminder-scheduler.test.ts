import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { type Database, openPostgres, queryRows } from '../src/db/client'
import { createLogger } from '../src/logger'
import {
  createReminderScheduler,
  type FiredReminder,
  LATE_AFTER_SECONDS,
  type ReminderScheduler,
} from '../src/modules/reminders/scheduler'
import { createTask, setCompleted } from '../src/modules/tasks/service'
import { trashTask } from '../src/modules/trash/service'
import { backend, sharedDatabase } from './support/database'

// Two instances of the API against one database, each with its own scheduler on its own
// connections: on PostgreSQL two connection pools; PGlite is one connection in one process, so
// there the two schedulers share it (their transactions take turns).

let one: Database
let two: Database
const logger = createLogger('error')

beforeEach(async () => {
  const shared = await sharedDatabase()
  one = shared.database
  two = backend === 'postgres' ? await openPostgres(shared.url as string) : one
  await one.db.execute(sql`insert into users (id) values ('alice'), ('bob')`)
})

afterEach(async () => {
  if (two !== one) await two.close()
})

/** A day from now, on a whole minute: every reminder below is armed (its time is ahead). */
const base = () => Math.ceil((Date.now() + 24 * 3600_000) / 60_000) * 60_000
const at = (ms: number) => new Date(ms).toISOString()

/** A task of `user` with one `at` reminder per instant; answers the reminders' ids. */
async function remindersAt(user: string, instants: number[]): Promise<number[]> {
  const task = await createTask(one.db, user, { title: 't', reminders: instants.map((ms) => ({ at: at(ms) })) })
  return task.reminders.map((r) => r.id)
}

interface Instance {
  scheduler: ReminderScheduler
  fired: FiredReminder[]
}

/** An instance's scheduler on `database`, recording what it fired. */
function instance(database: Database, clock?: () => Date, pollMs = 20, batch?: number): Instance {
  const fired: FiredReminder[] = []
  const scheduler = createReminderScheduler({
    db: database.db,
    logger,
    clock,
    pollMs,
    batch,
    onFired: (batch) => fired.push(...batch),
  })
  return { scheduler, fired }
}

/** How many times each reminder fired, over every instance. */
function firings(...instances: Instance[]): Map<number, number> {
  const counts = new Map<number, number>()
  for (const { fired } of instances) for (const r of fired) counts.set(r.id, (counts.get(r.id) ?? 0) + 1)
  return counts
}

async function until(what: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`)
    await Bun.sleep(10)
  }
}

const stored = () =>
  queryRows<{ id: number; fired_at: string | null; late: boolean }>(
    one.db,
    sql`select id, fired_at, late from reminders order by id`,
  )

describe('two instances, one database', () => {
  test('many reminders due at once: each fires exactly once, on one of them', async () => {
    const start = base()
    const ids: number[] = []
    for (let i = 0; i < 60; i++)
      ids.push(...(await remindersAt(i % 2 ? 'alice' : 'bob', [start + i * 1000, start + i * 1000 + 500, start + i])))
    const clock = () => new Date(start + 3600_000)
    // Small claims, so that the two take turns many times over.
    const a = instance(one, clock, 20, 5)
    const b = instance(two, clock, 20, 5)
    await two.db.execute(sql`select 1`)
    // Both claim at the same moments, several times over.
    await Promise.all([a.scheduler.tick(), b.scheduler.tick(), a.scheduler.tick(), b.scheduler.tick()])
    const counts = firings(a, b)
    expect([...counts.keys()].sort((x, y) => x - y)).toEqual(ids.sort((x, y) => x - y))
    expect([...counts.values()].every((n) => n === 1)).toBe(true)
    // Both did fire some (on PGlite they take turns on one connection).
    expect(a.fired.length * b.fired.length).toBeGreaterThan(0)
    expect((await stored()).every((r) => r.fired_at !== null)).toBe(true)
    // Nothing left: another round fires nothing.
    expect([...(await a.scheduler.tick()), ...(await b.scheduler.tick())]).toEqual([])
  })

  test('across a restart of both: what came due while they were down fires once when they start, marked late', async () => {
    const start = base()
    let now = start
    const clock = () => new Date(now)
    const minute = 60_000
    const [early, downA, downB, after] = await remindersAt('alice', [
      start + 10 * minute,
      start + 20 * minute,
      start + 30 * minute,
      start + 60 * minute,
    ])
    const a = instance(one, clock)
    const b = instance(two, clock)
    const both = [a, b]

    now = start + 10 * minute + 1000
    for (const i of both) i.scheduler.start()
    await until(() => firings(a, b).has(early as number))
    for (const i of both) await i.scheduler.stop()

    // Down: two reminders come due; nothing fires.
    now = start + 35 * minute
    await Bun.sleep(200)
    expect(firings(a, b).size).toBe(1)

    // Up again: both fire at once on start, each once, late.
    for (const i of both) i.scheduler.start()
    await until(() => firings(a, b).size === 3)
    now = start + 60 * minute + 500
    await until(() => firings(a, b).has(after as number))
    await Bun.sleep(200)
    for (const i of both) await i.scheduler.stop()

    const counts = firings(a, b)
    expect([...counts.entries()].sort(([x], [y]) => x - y)).toEqual([
      [early as number, 1],
      [downA as number, 1],
      [downB as number, 1],
      [after as number, 1],
    ])
    const late = Object.fromEntries((await stored()).map((r) => [r.id, r.late]))
    expect(late).toEqual({
      [early as number]: false,
      [downA as number]: true,
      [downB as number]: true,
      [after as number]: false,
    })
  })

  test('late means more than LATE_AFTER_SECONDS after its time', async () => {
    const start = base()
    const [missed, justInTime] = await remindersAt('alice', [start, start + 1000])
    const clock = () => new Date(start + 1000 + LATE_AFTER_SECONDS * 1000)
    await Promise.all([instance(one, clock).scheduler.tick(), instance(two, clock).scheduler.tick()])
    const late = Object.fromEntries((await stored()).map((r) => [r.id, r.late]))
    expect(late).toEqual({ [missed as number]: true, [justInTime as number]: false })
  })

  test('with the database clock: fires within 2 s of its time and notifies the user on every instance', async () => {
    const heard: (string | null)[] = []
    const listener = await two.changes()
    const stop = listener.onReminder((user) => heard.push(user))
    try {
      const [row] = await queryRows<{ now: string }>(one.db, sql`select now()::text as now`)
      const due = new Date(row?.now as string).getTime() + 1200
      const [id] = await remindersAt('alice', [due])
      const a = instance(one, undefined, 1000)
      const b = instance(two, undefined, 1000)
      for (const i of [a, b]) i.scheduler.start()
      await until(() => firings(a, b).has(id as number), 6000)
      for (const i of [a, b]) await i.scheduler.stop()
      expect(firings(a, b).get(id as number)).toBe(1)
      const [reminder] = await stored()
      const lag = new Date(reminder?.fired_at as string).getTime() - due
      expect(lag).toBeGreaterThanOrEqual(0)
      expect(lag).toBeLessThan(2000)
      expect(reminder?.late).toBe(false)
      await until(() => heard.includes('alice'))
      expect(heard).not.toContain('bob')
    } finally {
      stop()
    }
  })

  test('reminders of a task in the trash or a completed task never fire', async () => {
    const start = base()
    const trashed = await createTask(one.db, 'alice', { title: 'trashed', reminders: [{ at: at(start) }] })
    expect(await trashTask(one.db, 'alice', trashed.id)).toBe(true)
    const done = await createTask(one.db, 'alice', { title: 'done', reminders: [{ at: at(start) }] })
    await setCompleted(one.db, 'alice', done.id, true)
    const a = instance(one, () => new Date(start + 3600_000))
    const b = instance(two, () => new Date(start + 3600_000))
    expect([...(await a.scheduler.tick()), ...(await b.scheduler.tick())]).toEqual([])
    expect((await stored()).map((r) => r.fired_at)).toEqual([null, null])
  })
})
