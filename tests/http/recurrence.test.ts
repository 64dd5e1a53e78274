import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, expectStatus, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { dbRows } from '../support/lists'
import { createTask, listAll, type NewTask, nextLink, type TaskOut, tasksOf } from '../support/tasks'

let api: TestApp
let alice: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

const tasks = () => tasksOf(api, alice, 'alice')
const create = (body: NewTask) => createTask(api, alice, 'alice', body)
const get = async (id: number) => expectStatus(await tasks()({ id }).get(), 200)
const complete = async (id: number) => expectStatus(await tasks()({ id }).complete.patch({ completed: true }), 200)
const completions = async (id: number, query: { limit?: number; cursor?: string } = {}) =>
  expectStatus(await tasks()({ id }).completions.get({ query }), 200)

/**
 * Creates a task due at `due` repeating by `rule` in `tz`, completes it `times` times, and
 * answers its due date before the first completion and after each ('done' once it completed
 * for good), with the next_due it showed at each step.
 */
async function occurrences(due: string, rule: string, tz: string, times: number) {
  const task = await create({ title: 'repeat', due_date: due, recurrence: { rule, tz } })
  const dues: string[] = [task.due_date as string]
  const nexts: (string | null)[] = [task.next_due]
  for (let i = 0; i < times; i++) {
    const after = await complete(task.id)
    if (after.completed) {
      dues.push('done')
      break
    }
    dues.push(after.due_date as string)
    nexts.push(after.next_due)
  }
  return { task, dues, nexts }
}

/** Each next_due is the due date the following completion moved to. */
const expectNextsAgree = ({ dues, nexts }: { dues: string[]; nexts: (string | null)[] }) => {
  for (let i = 0; i < nexts.length; i++)
    expect(nexts[i]).toBe(dues[i + 1] === 'done' ? null : (dues[i + 1] ?? nexts[i]))
}

describe('the next occurrence keeps the wall-clock time in tz', () => {
  test('daily 09:00 Europe/Berlin across the spring change (29 March 2026)', async () => {
    const s = await occurrences('2026-03-27T09:00:00+01:00', 'FREQ=DAILY', 'Europe/Berlin', 3)
    expect(s.dues).toEqual([
      '2026-03-27T08:00:00.000Z',
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z', // 09:00 CEST
      '2026-03-30T07:00:00.000Z',
    ])
    expectNextsAgree(s)
  })

  test('daily 09:00 Europe/Berlin across the autumn change (25 October 2026)', async () => {
    const s = await occurrences('2026-10-24T09:00:00+02:00', 'FREQ=DAILY', 'Europe/Berlin', 2)
    expect(s.dues).toEqual(['2026-10-24T07:00:00.000Z', '2026-10-25T08:00:00.000Z', '2026-10-26T08:00:00.000Z'])
  })

  test('daily 09:00 America/New_York across both changes (8 March, 1 November 2026)', async () => {
    const spring = await occurrences('2026-03-07T09:00:00-05:00', 'FREQ=DAILY', 'America/New_York', 2)
    expect(spring.dues).toEqual(['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z', '2026-03-09T13:00:00.000Z'])
    const autumn = await occurrences('2026-10-31T09:00:00-04:00', 'FREQ=DAILY', 'America/New_York', 2)
    expect(autumn.dues).toEqual(['2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z', '2026-11-02T14:00:00.000Z'])
  })

  test('a time the spring change skips moves forward by the gap, the next day is back at its time', async () => {
    // 02:30 does not exist in Berlin on 29 March 2026: RFC 5545 reads it as 03:30 CEST.
    const berlin = await occurrences('2026-03-28T02:30:00+01:00', 'FREQ=DAILY', 'Europe/Berlin', 2)
    expect(berlin.dues).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z'])
    expectNextsAgree(berlin)
    // Weekly on Sundays at 02:30 in New York: 8 March 2026 has no 02:30, it becomes 03:30 EDT.
    const ny = await occurrences('2026-03-01T02:30:00-05:00', 'FREQ=WEEKLY', 'America/New_York', 2)
    expect(ny.dues).toEqual(['2026-03-01T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-15T06:30:00.000Z'])
  })

  test('a time the autumn change repeats is the first of the two', async () => {
    // 01:30 happens twice in New York on 1 November 2026: the first one is EDT.
    const s = await occurrences('2026-10-31T01:30:00-04:00', 'FREQ=DAILY', 'America/New_York', 2)
    expect(s.dues).toEqual(['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'])
  })

  test('Australia/Lord_Howe shifts by 30 minutes, both ways', async () => {
    // Back to +10:30 on 5 April 2026, forward to +11 on 4 October 2026 (02:00 becomes 02:30).
    const april = await occurrences('2026-04-04T09:00:00+11:00', 'FREQ=DAILY', 'Australia/Lord_Howe', 2)
    expect(april.dues).toEqual(['2026-04-03T22:00:00.000Z', '2026-04-04T22:30:00.000Z', '2026-04-05T22:30:00.000Z'])
    const october = await occurrences('2026-10-03T09:00:00+10:30', 'FREQ=DAILY', 'Australia/Lord_Howe', 2)
    expect(october.dues).toEqual(['2026-10-02T22:30:00.000Z', '2026-10-03T22:00:00.000Z', '2026-10-04T22:00:00.000Z'])
    // 02:15 on 4 October does not exist there: it moves forward 30 minutes, to 02:45.
    const gap = await occurrences('2026-10-03T02:15:00+10:30', 'FREQ=DAILY', 'Australia/Lord_Howe', 2)
    expect(gap.dues).toEqual(['2026-10-02T15:45:00.000Z', '2026-10-03T15:45:00.000Z', '2026-10-04T15:15:00.000Z'])
  })
})

describe('the calendar rules', () => {
  test('BYMONTHDAY=31 skips the months without a 31st', async () => {
    const s = await occurrences('2026-01-31', 'FREQ=MONTHLY;BYMONTHDAY=31', 'UTC', 5)
    expect(s.dues).toEqual(['2026-01-31', '2026-03-31', '2026-05-31', '2026-07-31', '2026-08-31', '2026-10-31'])
    expectNextsAgree(s)
  })

  test('BYMONTHDAY=-1 is the last day of every month', async () => {
    const s = await occurrences('2026-01-31T18:00:00+01:00', 'FREQ=MONTHLY;BYMONTHDAY=-1', 'Europe/Berlin', 4)
    expect(s.dues).toEqual([
      '2026-01-31T17:00:00.000Z',
      '2026-02-28T17:00:00.000Z',
      '2026-03-31T16:00:00.000Z',
      '2026-04-30T16:00:00.000Z',
      '2026-05-31T16:00:00.000Z',
    ])
  })

  test('29 February yearly comes back in leap years only', async () => {
    const s = await occurrences('2024-02-29', 'FREQ=YEARLY', 'UTC', 2)
    expect(s.dues).toEqual(['2024-02-29', '2028-02-29', '2032-02-29'])
  })

  test('BYDAY=-1FR is the last Friday of the month', async () => {
    const s = await occurrences('2026-01-30', 'FREQ=MONTHLY;BYDAY=-1FR', 'UTC', 4)
    expect(s.dues).toEqual(['2026-01-30', '2026-02-27', '2026-03-27', '2026-04-24', '2026-05-29'])
  })

  test('a calendar date recurring weekly stays a date', async () => {
    const s = await occurrences('2026-03-02', 'FREQ=WEEKLY', 'America/New_York', 3)
    expect(s.dues).toEqual(['2026-03-02', '2026-03-09', '2026-03-16', '2026-03-23'])
    expectNextsAgree(s)
  })

  test('INTERVAL, BYDAY lists, BYMONTH, BYSETPOS and WKST', async () => {
    // RFC 5545's own example: every other week on Tuesday and Sunday, weeks starting on Sunday.
    const wkst = await occurrences('1997-08-05', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU', 'UTC', 3)
    expect(wkst.dues).toEqual(['1997-08-05', '1997-08-17', '1997-08-19', '1997-08-31'])
    const setpos = await occurrences('2026-01-30', 'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', 'UTC', 3)
    expect(setpos.dues).toEqual(['2026-01-30', '2026-02-27', '2026-03-31', '2026-04-30'])
    const byMonth = await occurrences('2026-01-05', 'FREQ=YEARLY;BYMONTH=1,7;BYDAY=1MO', 'UTC', 3)
    expect(byMonth.dues).toEqual(['2026-01-05', '2026-07-06', '2027-01-04', '2027-07-05'])
  })
})

describe('completing a recurring task', () => {
  test('COUNT=3: two completions move it, the third completes it for good', async () => {
    const s = await occurrences('2026-03-02T09:00:00Z', 'FREQ=DAILY;COUNT=3', 'UTC', 5)
    expect(s.dues).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-03T09:00:00.000Z', '2026-03-04T09:00:00.000Z', 'done'])
    expect(s.nexts).toEqual(['2026-03-03T09:00:00.000Z', '2026-03-04T09:00:00.000Z', null])
    const done = await get(s.task.id)
    expect(done).toMatchObject({ completed: true, due_date: '2026-03-04T09:00:00.000Z', next_due: null })
    expect((await completions(s.task.id)).map((c) => [c.due, c.next_due])).toEqual([
      ['2026-03-04T09:00:00.000Z', null],
      ['2026-03-03T09:00:00.000Z', '2026-03-04T09:00:00.000Z'],
      ['2026-03-02T09:00:00.000Z', '2026-03-03T09:00:00.000Z'],
    ])
  })

  test('UNTIL: the last occurrence on or before it completes it for good', async () => {
    const s = await occurrences('2026-03-02T09:00:00+01:00', 'FREQ=WEEKLY;UNTIL=20260316T080000Z', 'Europe/Berlin', 4)
    expect(s.dues).toEqual(['2026-03-02T08:00:00.000Z', '2026-03-09T08:00:00.000Z', '2026-03-16T08:00:00.000Z', 'done'])
    const byDate = await occurrences('2026-03-02', 'FREQ=DAILY;UNTIL=20260303', 'UTC', 4)
    expect(byDate.dues).toEqual(['2026-03-02', '2026-03-03', 'done'])
  })

  test('the task stays open, its subtasks reopen, the completion is listed', async () => {
    const parent = await create({
      title: 'Weekly review',
      due_date: '2026-03-02T09:00:00Z',
      recurrence: { rule: 'FREQ=WEEKLY', tz: 'UTC' },
    })
    const child = await create({ title: 'inbox zero', parent_id: parent.id })
    const grandchild = await create({ title: 'archive', parent_id: child.id })
    await complete(grandchild.id)
    await complete(child.id)
    expect(await get(parent.id)).toMatchObject({ subtask_count: 1, completed_subtask_count: 1 })

    const after = await complete(parent.id)
    expect(after).toMatchObject({
      completed: false,
      completed_at: null,
      due_date: '2026-03-09T09:00:00.000Z',
      next_due: '2026-03-16T09:00:00.000Z',
      recurrence: { rule: 'FREQ=WEEKLY', tz: 'UTC', from: 'due' },
      subtask_count: 1,
      completed_subtask_count: 0,
    })
    expect(await get(child.id)).toMatchObject({ completed: false, completed_at: null })
    expect(await get(grandchild.id)).toMatchObject({ completed: false, completed_at: null })
    const [entry, ...rest] = await completions(parent.id)
    expect(rest).toEqual([])
    expect(entry).toEqual({
      id: expect.any(Number),
      task_id: parent.id,
      completed_at: expect.stringMatching(/Z$/),
      due: '2026-03-02T09:00:00.000Z',
      next_due: '2026-03-09T09:00:00.000Z',
    })
    // The stored rows agree.
    const rows = await dbRows<{ completed: boolean; due_at: Date }>(
      sql`select completed, due_at from tasks where id = ${parent.id}`,
    )
    expect(rows.map((r) => [r.completed, new Date(r.due_at).toISOString()])).toEqual([
      [false, '2026-03-09T09:00:00.000Z'],
    ])
  })

  test('PATCH completed:true, the toggle and a batch complete all move it on', async () => {
    const task = await create({ title: 'r', due_date: '2026-03-02', recurrence: { rule: 'FREQ=DAILY' } })
    expect(expectStatus(await tasks()({ id: task.id }).patch({ completed: true }), 200)).toMatchObject({
      completed: false,
      due_date: '2026-03-03',
    })
    expect(expectStatus(await tasks()({ id: task.id }).complete.patch(), 200)).toMatchObject({
      completed: false,
      due_date: '2026-03-04',
    })
    const batch = await api.request('POST', '/api/alice/batch', {
      token: alice,
      body: { operations: [{ op: 'complete', type: 'task', id: task.id, data: { completed: true } }] },
    })
    expect(batch.status).toBe(200)
    expect(await get(task.id)).toMatchObject({ completed: false, due_date: '2026-03-05' })
    expect(await completions(task.id)).toHaveLength(3)
    // Reopening an open task changes nothing and records nothing.
    expect(expectStatus(await tasks()({ id: task.id }).complete.patch({ completed: false }), 200)).toMatchObject({
      completed: false,
      due_date: '2026-03-05',
    })
    expect(await completions(task.id)).toHaveLength(3)
  })

  test('from: completion counts from the day it was completed, in tz', async () => {
    const task = await create({
      title: 'water the plants',
      due_date: '2020-01-06T09:00:00+01:00',
      recurrence: { rule: 'FREQ=DAILY;INTERVAL=3', tz: 'Europe/Berlin', from: 'completion' },
    })
    const after = await complete(task.id)
    const [entry] = await completions(task.id)
    // Three days after the completion day in Berlin, at 09:00 there.
    const day = Temporal.Instant.from(entry?.completed_at as string)
      .toZonedDateTimeISO('Europe/Berlin')
      .toPlainDate()
      .add({ days: 3 })
    const expected = day.toZonedDateTime({ timeZone: 'Europe/Berlin', plainTime: '09:00' }).toInstant()
    expect(after.due_date).toBe(new Date(expected.epochMilliseconds).toISOString())
    expect(after.completed).toBe(false)
  })

  test('a one-off task completes as before and has no completions', async () => {
    const task = await create({ title: 'once', due_date: '2026-03-02' })
    expect(await complete(task.id)).toMatchObject({ completed: true, recurrence: null, next_due: null })
    expect(await completions(task.id)).toEqual([])
  })

  test('completions are paged newest first with Link', async () => {
    const task = await create({ title: 'r', due_date: '2026-03-02', recurrence: { rule: 'FREQ=DAILY' } })
    for (let i = 0; i < 3; i++) await complete(task.id)
    const first = await tasks()({ id: task.id }).completions.get({ query: { limit: 2 } })
    expect(expectStatus(first, 200).map((c) => c.due)).toEqual(['2026-03-04', '2026-03-03'])
    const link = nextLink(first.response)
    expect(link).not.toBeNull()
    const second = await api.request('GET', link as string, { token: alice })
    expect((await json<{ due: string }[]>(second)).map((c) => c.due)).toEqual(['2026-03-02'])
    expect(nextLink(second)).toBeNull()
  })

  test('completions of a task that is not yours, or not there, are a 404', async () => {
    const task = await create({ title: 'r', due_date: '2026-03-02', recurrence: { rule: 'FREQ=DAILY' } })
    const bob = await tokenFor('bob')
    await expectProblem(
      await api.request('GET', `/api/bob/tasks/${task.id}/completions`, { token: bob }),
      404,
      'not_found',
    )
    await expectProblem(
      await api.request('GET', '/api/alice/tasks/999999/completions', { token: alice }),
      404,
      'not_found',
    )
  })
})

describe('setting and changing recurrence', () => {
  test('every task shows recurrence (or null); PUT and PATCH set, change and clear it', async () => {
    const task = await create({ title: 'plain', due_date: '2026-03-02' })
    expect(task).toMatchObject({ recurrence: null, next_due: null })
    const set = expectStatus(
      await tasks()({ id: task.id }).put({ recurrence: { rule: 'rrule:freq=weekly;byday=mo', tz: 'Europe/Berlin' } }),
      200,
    )
    expect(set).toMatchObject({
      recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO', tz: 'Europe/Berlin', from: 'due' },
      due_date: '2026-03-02',
      next_due: '2026-03-09',
    })
    // Moving the due date moves the series with it.
    const moved = expectStatus(await tasks()({ id: task.id }).patch({ due_date: '2026-03-16' }), 200)
    expect(moved).toMatchObject({ due_date: '2026-03-16', next_due: '2026-03-23' })
    const cleared = expectStatus(await tasks()({ id: task.id }).patch({ recurrence: null }), 200)
    expect(cleared).toMatchObject({ recurrence: null, next_due: null, due_date: '2026-03-16' })
    expect(await complete(task.id)).toMatchObject({ completed: true })
  })

  test('next_due is read-only', async () => {
    const res = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'x', due_date: '2026-03-02', next_due: '2026-03-03' },
    })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors).toEqual([{ field: 'next_due', message: 'is read-only and cannot be set' }])
  })

  test('camelCase spelling is read too', async () => {
    const task = await create({ title: 'x', dueDate: '2026-03-02', recurrence: { rule: 'FREQ=DAILY' } } as NewTask)
    expect(task.next_due).toBe('2026-03-03')
  })

  test('a recurring task needs a due date', async () => {
    const noDue = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'x', recurrence: { rule: 'FREQ=DAILY' } },
    })
    const problem = await expectProblem(noDue, 400, 'validation_failed')
    expect(problem.errors).toEqual([{ field: 'recurrence', message: 'a recurring task needs a due date' }])
    const task = await create({ title: 'x', due_date: '2026-03-02', recurrence: { rule: 'FREQ=DAILY' } })
    const clear = await api.request('PATCH', `/api/alice/tasks/${task.id}`, { token: alice, body: { due_date: null } })
    expect((await expectProblem(clear, 400, 'validation_failed')).errors).toEqual([
      { field: 'due_date', message: 'a recurring task needs a due date' },
    ])
    expect(await get(task.id)).toMatchObject({ due_date: '2026-03-02' })
  })

  const invalidRules: [string, string][] = [
    ['FREQ=HOURLY', 'FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY'],
    ['INTERVAL=2', 'must have FREQ'],
    ['FREQ=DAILY;INTERVAL=0', 'INTERVAL must be a whole number from 1 to 999'],
    ['FREQ=MONTHLY;BYMONTHDAY=32', 'BYMONTHDAY must be days from 1 to 31 or -31 to -1'],
    ['FREQ=MONTHLY;BYMONTHDAY=0', 'BYMONTHDAY must be days from 1 to 31 or -31 to -1'],
    ['FREQ=YEARLY;BYMONTH=13', 'BYMONTH must be months from 1 to 12'],
    ['FREQ=WEEKLY;BYDAY=XX', 'BYDAY must be weekdays (MO..SU), each with an optional ordinal such as -1FR (got "XX")'],
    ['FREQ=WEEKLY;BYDAY=-1FR', 'BYDAY can only have ordinals (such as -1FR) with FREQ=MONTHLY or FREQ=YEARLY'],
    ['FREQ=DAILY;COUNT=2;UNTIL=20260310', 'must not have both COUNT and UNTIL'],
    ['FREQ=DAILY;UNTIL=2026-03-10', 'UNTIL must be a date (20261231) or a date-time in UTC (20261231T235959Z)'],
    ['FREQ=DAILY;BYSETPOS=1', 'BYSETPOS needs another BY part (BYDAY, BYMONTHDAY or BYMONTH)'],
    ['FREQ=DAILY;WKST=XY', 'WKST must be a weekday (MO..SU)'],
    [
      'FREQ=DAILY;BYHOUR=9',
      'has an unsupported part BYHOUR (supported: FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST)',
    ],
    ['FREQ=DAILY;FREQ=WEEKLY', 'has FREQ more than once'],
    ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', 'has no occurrence after the due date'],
  ]
  for (const [rule, message] of invalidRules)
    test(`"${rule}" is a 400 that says why`, async () => {
      const res = await api.request('POST', '/api/alice/tasks', {
        token: alice,
        body: { title: 'x', due_date: '2026-03-02', recurrence: { rule, tz: 'UTC' } },
      })
      const problem = await expectProblem(res, 400, 'validation_failed')
      expect(problem.errors).toEqual([{ field: 'recurrence.rule', message }])
      expect(problem.detail).toContain(message)
    })

  test('UNTIL with a time on a task due on a date, an unknown zone and an unknown from are 400s', async () => {
    const post = (recurrence: unknown) =>
      api.request('POST', '/api/alice/tasks', {
        token: alice,
        body: { title: 'x', due_date: '2026-03-02', recurrence },
      })
    const until = await expectProblem(
      await post({ rule: 'FREQ=DAILY;UNTIL=20260310T000000Z' }),
      400,
      'validation_failed',
    )
    expect(until.errors?.[0]?.field).toBe('recurrence.rule')
    const tz = await expectProblem(await post({ rule: 'FREQ=DAILY', tz: 'Mars/Olympus' }), 400, 'validation_failed')
    expect(tz.errors?.[0]?.field).toMatch(/^recurrence/)
    const from = await expectProblem(await post({ rule: 'FREQ=DAILY', from: 'later' }), 400, 'validation_failed')
    expect(from.errors?.[0]?.field).toMatch(/^recurrence/)
    const extra = await expectProblem(await post({ rule: 'FREQ=DAILY', every: 2 }), 400, 'validation_failed')
    expect(extra.errors?.[0]?.field).toMatch(/^recurrence/)
  })
})

describe('the list', () => {
  test('recurring=true and recurring=false', async () => {
    const repeating = await create({ title: 'repeat', due_date: '2026-03-02', recurrence: { rule: 'FREQ=DAILY' } })
    const once = await create({ title: 'once' })
    const ids = async (recurring: boolean) =>
      (await listAll(api, alice, await tasks().get({ query: { recurring } }))).map((t: TaskOut) => t.id)
    expect(await ids(true)).toEqual([repeating.id])
    expect(await ids(false)).toEqual([once.id])
    const bad = await api.request('GET', '/api/alice/tasks?recurring=maybe', { token: alice })
    expect((await expectProblem(bad, 400, 'validation_failed')).errors?.[0]?.field).toBe('recurring')
  })
})

describe('the trash', () => {
  test('recurrence and completions survive a trash and restore; a purge drops the completions', async () => {
    const task = await create({
      title: 'r',
      due_date: '2026-03-02T09:00:00Z',
      recurrence: { rule: 'FREQ=DAILY;COUNT=4', tz: 'Europe/Berlin', from: 'due' },
    })
    await complete(task.id)
    const before = await get(task.id)
    expectStatus(await tasks()({ id: task.id }).delete(), 204)
    const trashed = await api.request('GET', '/api/alice/trash', { token: alice })
    expect((await json<TaskOut[]>(trashed))[0]).toMatchObject({
      recurrence: before.recurrence,
      next_due: before.next_due,
    })
    const restored = await api.request('POST', `/api/alice/trash/${task.id}/restore`, { token: alice })
    expect(restored.status).toBe(200)
    const back = await get(task.id)
    expect(back).toMatchObject({ recurrence: before.recurrence, due_date: before.due_date, next_due: before.next_due })
    expect(await completions(task.id)).toHaveLength(1)
    // The series goes on where it was: COUNT=4 has two occurrences left after this one.
    expect(await complete(task.id)).toMatchObject({ completed: false, due_date: '2026-03-04T09:00:00.000Z' })
    expect(await complete(task.id)).toMatchObject({ completed: false, due_date: '2026-03-05T09:00:00.000Z' })
    expect(await complete(task.id)).toMatchObject({ completed: true })

    expectStatus(await tasks()({ id: task.id }).delete(), 204)
    expect((await api.request('DELETE', `/api/alice/trash/${task.id}`, { token: alice })).status).toBe(204)
    expect(await dbRows(sql`select id from task_completions where task_id = ${task.id}`)).toEqual([])
  })
})
