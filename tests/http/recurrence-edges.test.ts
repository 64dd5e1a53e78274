import { beforeEach, describe, expect, test } from 'bun:test'
import { expectProblem, expectStatus, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { createTask, type NewTask, type TaskOut, tasksOf } from '../support/tasks'

// Edges of recurring tasks found by an adversarial pass: each test failed before its fix.

let api: TestApp
let alice: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

const tasks = () => tasksOf(api, alice, 'alice')
const create = (body: NewTask) => createTask(api, alice, 'alice', body)
const get = async (id: number) => expectStatus(await tasks()({ id }).get(), 200)
const batch = (operations: unknown[]) => api.request('POST', '/api/alice/batch', { token: alice, body: { operations } })

describe('a batch', () => {
  test('creates and updates a recurrence as the single routes do', async () => {
    const created = await batch([
      {
        op: 'create',
        type: 'task',
        data: { title: 'r', due_date: '2026-03-02', recurrence: { rule: 'FREQ=WEEKLY', tz: 'Europe/Berlin' } },
      },
    ])
    const [made] = (await json<{ results: { task: TaskOut }[] }>(created)).results
    expect(made?.task).toMatchObject({
      recurrence: { rule: 'FREQ=WEEKLY', tz: 'Europe/Berlin', from: 'due' },
      next_due: '2026-03-09',
    })

    const task = await create({ title: 'plain', due_date: '2026-03-02' })
    expect(
      (await batch([{ op: 'update', type: 'task', id: task.id, data: { recurrence: { rule: 'FREQ=DAILY' } } }])).status,
    ).toBe(200)
    expect(await get(task.id)).toMatchObject({ recurrence: { rule: 'FREQ=DAILY' }, next_due: '2026-03-03' })
  })

  test('refuses an invalid rule or a rule without a due date, and applies nothing', async () => {
    const task = await create({ title: 'plain', due_date: '2026-03-02' })
    const bad = await batch([
      { op: 'update', type: 'task', id: task.id, data: { title: 'renamed' } },
      {
        op: 'update',
        type: 'task',
        id: task.id,
        data: { recurrence: { rule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30' } },
      },
    ])
    const problem = await expectProblem(bad, 400, 'validation_failed')
    expect(problem.errors).toEqual([
      { field: 'operations.1.data.recurrence.rule', message: 'has no occurrence after the due date' },
    ])
    const noDue = await batch([
      { op: 'create', type: 'task', data: { title: 'x', recurrence: { rule: 'FREQ=DAILY' } } },
    ])
    expect((await expectProblem(noDue, 400, 'validation_failed')).errors).toEqual([
      { field: 'operations.0.data.recurrence', message: 'a recurring task needs a due date' },
    ])
    expect(await get(task.id)).toMatchObject({ title: 'plain', recurrence: null })
  })
})

describe('concurrent completions', () => {
  const complete = (id: number) => tasks()({ id }).complete.patch({ completed: true })

  test('each one moves the series on once; after COUNT they answer the completed task, never a 404', async () => {
    const task = await create({ title: 'r', due_date: '2026-03-02', recurrence: { rule: 'FREQ=DAILY;COUNT=5' } })
    const answers = await Promise.all(Array.from({ length: 20 }, () => complete(task.id)))
    expect(answers.map((a) => a.response.status)).toEqual(Array(20).fill(200))
    // Four moved it on (each to another day), the fifth completed it, the rest found it completed.
    const dues = answers.map((a) => `${a.data?.due_date}${a.data?.completed ? ' done' : ''}`).sort()
    expect(dues).toEqual(['2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', ...Array(16).fill('2026-03-06 done')])
    const completions = expectStatus(await tasks()({ id: task.id }).completions.get({ query: {} }), 200)
    expect(completions.map((c) => c.due)).toEqual([
      '2026-03-06',
      '2026-03-05',
      '2026-03-04',
      '2026-03-03',
      '2026-03-02',
    ])
  })

  test('a completion racing a change of the rule answers the task, never a 404', async () => {
    for (let round = 0; round < 5; round++) {
      const task = await create({ title: 'r', due_date: '2026-03-02', recurrence: { rule: 'FREQ=DAILY' } })
      const answers = await Promise.all([
        complete(task.id),
        tasks()({ id: task.id }).patch({ recurrence: null }),
        complete(task.id),
        complete(task.id),
      ])
      expect(answers.map((a) => a.response.status)).toEqual([200, 200, 200, 200])
    }
  })
})

describe('the end of the calendar (year 9999)', () => {
  const complete = async (id: number) => expectStatus(await tasks()({ id }).complete.patch({ completed: true }), 200)

  test('an occurrence after 9999-12-31 ends the series, as UNTIL would: completing it completes it', async () => {
    const daily = await create({ title: 'r', due_date: '9999-12-30', recurrence: { rule: 'FREQ=DAILY' } })
    expect(daily.next_due).toBe('9999-12-31')
    expect(await complete(daily.id)).toMatchObject({ completed: false, due_date: '9999-12-31', next_due: null })
    expect(await complete(daily.id)).toMatchObject({ completed: true, due_date: '9999-12-31' })
    const completions = expectStatus(await tasks()({ id: daily.id }).completions.get({ query: {} }), 200)
    expect(completions.map((c) => [c.due, c.next_due])).toEqual([
      ['9999-12-31', null],
      ['9999-12-30', '9999-12-31'],
    ])

    const instant = await create({
      title: 'r',
      due_date: '9999-12-31T23:59:59Z',
      recurrence: { rule: 'FREQ=DAILY', tz: 'Pacific/Kiritimati' },
    })
    expect(instant.next_due).toBeNull()
    expect(await complete(instant.id)).toMatchObject({ completed: true, due_date: '9999-12-31T23:59:59.000Z' })

    // Every 999 years, on a 29 February that is a Monday: the first after 2026 is in 12016.
    const rare = await create({
      title: 'r',
      due_date: '2026-03-02',
      recurrence: { rule: 'FREQ=YEARLY;INTERVAL=999;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO' },
    })
    expect(rare.next_due).toBeNull()
    expect(await complete(rare.id)).toMatchObject({ completed: true })
  })
})

describe('rare occurrences', () => {
  test('a rule whose next occurrence is years away is found, not refused or ended', async () => {
    // Friday the 13th of February, written day by day: 2026, then 2032 (six years on).
    const fridays = await create({
      title: 'r',
      due_date: '2026-02-13',
      recurrence: { rule: 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=13;BYDAY=FR' },
    })
    expect(fridays.next_due).toBe('2032-02-13')
    // 29 February day by day across 2100, which is no leap year: eight years on.
    const leap = await create({
      title: 'r',
      due_date: '2092-02-29',
      recurrence: { rule: 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29' },
    })
    expect(leap.next_due).toBe('2096-02-29')
    expect(expectStatus(await tasks()({ id: leap.id }).complete.patch({ completed: true }), 200)).toMatchObject({
      completed: false,
      due_date: '2096-02-29',
      next_due: '2104-02-29',
    })
  })

  test('a rule that never occurs is refused quickly', async () => {
    const all = 'MO,TU,WE,TH,FR,SA,SU'
    for (const rule of [
      `FREQ=WEEKLY;BYDAY=${all};BYSETPOS=8`,
      `FREQ=DAILY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYMONTHDAY=30,31;BYDAY=${all};BYSETPOS=2`,
      `FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30`,
    ]) {
      const started = performance.now()
      const res = await api.request('POST', '/api/alice/tasks', {
        token: alice,
        body: { title: 'x', due_date: '2026-03-02', recurrence: { rule } },
      })
      expect((await expectProblem(res, 400, 'validation_failed')).errors).toEqual([
        { field: 'recurrence.rule', message: 'has no occurrence after the due date' },
      ])
      expect(performance.now() - started).toBeLessThan(1000)
    }
  })
})

describe('the rule text', () => {
  const post = (rule: string) =>
    api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'x', due_date: '2026-03-02', recurrence: { rule } },
    })

  test('letters that upper-case to ASCII (dotless ı, long ſ) are not read as I and S', async () => {
    for (const rule of ['FREQ=daıly', 'FREQ=MONTHLY;BYDAY=MO;BYſETPOS=1']) {
      const problem = await expectProblem(await post(rule), 400, 'validation_failed')
      expect(problem.errors).toEqual([
        { field: 'recurrence.rule', message: 'must be ASCII text such as FREQ=WEEKLY;BYDAY=MO' },
      ])
    }
  })

  test('INTERVAL and BYMONTH take no sign (RFC 5545: digits only), so a stored rule is one RFC 5545 reads', async () => {
    const signed: [string, string][] = [
      ['FREQ=DAILY;INTERVAL=+2', 'INTERVAL must be a whole number from 1 to 999'],
      ['FREQ=YEARLY;BYMONTH=+3', 'BYMONTH must be months from 1 to 12'],
    ]
    for (const [rule, message] of signed) {
      const problem = await expectProblem(await post(rule), 400, 'validation_failed')
      expect(problem.errors).toEqual([{ field: 'recurrence.rule', message }])
    }
    // A sign is fine where RFC 5545 has one.
    expect((await post('FREQ=MONTHLY;BYMONTHDAY=+5;BYDAY=+1MO,-1FR;BYSETPOS=+1')).status).toBe(201)
  })
})

describe('the zone', () => {
  test('is kept in its IANA spelling, however it was cased', async () => {
    const zones: [string, string][] = [
      ['europe/berlin', 'Europe/Berlin'],
      ['utc', 'UTC'],
      ['us/eastern', 'US/Eastern'],
    ]
    for (const [tz, spelled] of zones) {
      const task = await create({ title: 'r', due_date: '2026-03-02', recurrence: { rule: 'FREQ=DAILY', tz } })
      expect(task.recurrence?.tz).toBe(spelled)
    }
  })
})

describe('an instant in the first century', () => {
  test('reads back as stored (it came back 2,000 years later), in the task, the list and the completion', async () => {
    const task = await create({
      title: 'ancient',
      due_date: '0001-01-01T09:00:00.000Z',
      recurrence: { rule: 'FREQ=WEEKLY', tz: 'UTC' },
    })
    expect(task).toMatchObject({ due_date: '0001-01-01T09:00:00.000Z', next_due: '0001-01-08T09:00:00.000Z' })
    const other = await create({ title: 'late antiquity', due_date: '0099-12-31T23:59:59.999Z' })
    expect((await get(other.id)).due_date).toBe('0099-12-31T23:59:59.999Z')
    const listed = expectStatus(await tasks().get({ query: { sort: 'due_date', order: 'asc' } }), 200)
    expect(listed.map((t) => t.due_date)).toEqual(['0001-01-01T09:00:00.000Z', '0099-12-31T23:59:59.999Z'])
    const done = expectStatus(await tasks()({ id: task.id }).complete.patch({ completed: true }), 200)
    expect(done).toMatchObject({ due_date: '0001-01-08T09:00:00.000Z', next_due: '0001-01-15T09:00:00.000Z' })
    const completions = await json<{ due: string; next_due: string }[]>(
      await api.request('GET', `/api/alice/tasks/${task.id}/completions`, { token: alice }),
    )
    expect(completions).toMatchObject([{ due: '0001-01-01T09:00:00.000Z', next_due: '0001-01-08T09:00:00.000Z' }])
  })
})
