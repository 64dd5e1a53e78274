import { beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, expectStatus, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { type EventStream, openEvents } from '../support/events'
import { dbRows } from '../support/lists'
import { fireReminders } from '../support/reminders'
import { createTask, type NewTask, tasksOf, type UpdateTask } from '../support/tasks'

let api: TestApp
let alice: string

// Reminders that really fire wait for the scheduler: a few seconds each.
setDefaultTimeout(30_000)

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  // Reminders fire on the way, as on a serving process.
  await fireReminders(api)
})

const tasks = () => tasksOf(api, alice, 'alice')
const create = (body: NewTask) => createTask(api, alice, 'alice', body)
const patch = async (id: number, body: UpdateTask) => expectStatus(await tasks()({ id }).patch(body), 200)
const get = async (id: number) => expectStatus(await tasks()({ id }).get(), 200)
const reminders = (token = alice, user = 'alice') => api.as(token).api({ user_id: user }).reminders
const due = async () => expectStatus(await reminders().get({ query: { state: 'due' } }), 200)
const ack = (id: number, token = alice, user = 'alice') => reminders(token, user)({ id }).ack.post()

/** An instant `ms` from now, as the API writes instants. */
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString()
const minutes = (n: number) => n * 60_000
const shift = (instant: string, ms: number) => new Date(new Date(instant).getTime() + ms).toISOString()

/** The next `event: reminder` of a stream (the stream's change events skipped). */
async function nextReminder(events: EventStream, ms = 8000) {
  const deadline = Date.now() + ms
  for (;;) {
    const message = await events.nextEvent(Math.max(deadline - Date.now(), 1))
    if (message.event === 'reminder') return message
  }
}

/** Polls `state=due` until a reminder of `taskId` is there (it fired), within `ms`. */
async function firedReminderOf(taskId: number, ms = 8000) {
  const deadline = Date.now() + ms
  for (;;) {
    const found = (await due()).find((r) => r.task_id === taskId)
    if (found) return found
    if (Date.now() > deadline) throw new Error(`no reminder of task ${taskId} fired within ${ms} ms`)
    await Bun.sleep(200)
  }
}

describe('reminders on tasks', () => {
  test('created with a task: ids, and fire_at from the instant or the due time; GET and the list show them', async () => {
    const dueAt = '2036-03-01T09:00:00.000Z'
    const task = await create({
      title: 'Pay rent',
      due_date: '2036-03-01T10:00:00+01:00',
      reminders: [{ before: 'PT15M' }, { at: '2036-02-28T18:00:00+01:00' }, { before: 'P1D' }],
    })
    expect(task.reminders).toEqual([
      { id: expect.any(Number), at: null, before: 'PT15M', fire_at: shift(dueAt, -minutes(15)) },
      { id: expect.any(Number), at: '2036-02-28T17:00:00.000Z', before: null, fire_at: '2036-02-28T17:00:00.000Z' },
      { id: expect.any(Number), at: null, before: 'P1D', fire_at: shift(dueAt, -minutes(24 * 60)) },
    ])
    expect((await get(task.id)).reminders).toEqual(task.reminders)
    const listed = expectStatus(await tasks().get({ query: {} }), 200)
    expect(listed.find((t) => t.id === task.id)?.reminders).toEqual(task.reminders)
    // Pending, soonest first, each with its task.
    const pending = expectStatus(await reminders().get({ query: { state: 'pending' } }), 200)
    expect(pending.map((r) => [r.fire_at, r.title, r.state])).toEqual([
      ['2036-02-28T17:00:00.000Z', 'Pay rent', 'pending'],
      [shift(dueAt, -minutes(24 * 60)), 'Pay rent', 'pending'],
      [shift(dueAt, -minutes(15)), 'Pay rent', 'pending'],
    ])
    expect(await due()).toEqual([])
  })

  test('camelCase is not needed: the field is one word; a task without reminders shows an empty list', async () => {
    const task = await create({ title: 'plain' })
    expect(task.reminders).toEqual([])
  })

  test.each([
    ['six reminders', Array.from({ length: 6 }, (_, i) => ({ at: `2036-01-0${i + 1}T09:00:00Z` }))],
    ['a month (its length varies)', [{ before: 'P1M' }]],
    ['a duration without a number', [{ before: 'PT' }]],
    ['words', [{ before: '15 minutes' }]],
    ['more than 366 days', [{ before: 'P367D' }]],
    ['an instant without an offset', [{ at: '2036-01-01T09:00:00' }]],
    ['a calendar date as the instant', [{ at: '2036-01-01' }]],
    ['both kinds in one', [{ at: '2036-01-01T09:00:00Z', before: 'PT5M' }]],
    ['an unknown field', [{ after: 'PT5M' }]],
    ['not a list', { before: 'PT5M' }],
  ])('%s: 400 naming reminders', async (_, value) => {
    const res = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'x', due_date: '2036-01-02T09:00:00Z', reminders: value },
    })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors?.[0]?.field).toStartWith('reminders')
  })

  test('before needs a due time: none, or a calendar date, is a 400 that says so, and nothing is created', async () => {
    for (const due_date of [undefined, '2036-01-02']) {
      const res = await api.request('POST', '/api/alice/tasks', {
        token: alice,
        body: { title: 'no time', due_date, reminders: [{ before: 'PT15M' }] },
      })
      const problem = await expectProblem(res, 400, 'validation_failed')
      expect(problem.detail).toContain('due time')
      expect(problem.errors).toEqual([{ field: 'reminders', message: expect.stringContaining('due time') }])
    }
    expect(expectStatus(await tasks().get({ query: {} }), 200)).toEqual([])
    // An instant needs no due date at all.
    expect((await create({ title: 'at', reminders: [{ at: '2036-01-02T09:00:00Z' }] })).reminders).toHaveLength(1)
  })

  test('clearing the due time of a task with before reminders is a 400; nothing changes', async () => {
    const task = await create({ title: 't', due_date: '2036-01-02T09:00:00Z', reminders: [{ before: 'PT1H' }] })
    for (const due_date of [null, '2036-01-02']) {
      const res = await api.request('PATCH', `/api/alice/tasks/${task.id}`, { token: alice, body: { due_date } })
      const problem = await expectProblem(res, 400, 'validation_failed')
      expect(problem.errors?.[0]?.field).toBe('due_date')
    }
    expect(await get(task.id)).toEqual(task)
    // With the reminders replaced in the same request, it is fine.
    const after = await patch(task.id, { due_date: null, reminders: [{ at: '2036-01-02T08:00:00Z' }] })
    expect(after.reminders.map((r) => r.at)).toEqual(['2036-01-02T08:00:00.000Z'])
  })

  test('PATCH and PUT replace the whole list; equal reminders keep their ids, duplicates count once; the version moves', async () => {
    const task = await create({
      title: 't',
      due_date: '2036-01-02T09:00:00Z',
      reminders: [{ before: 'PT15M' }, { at: '2036-01-01T09:00:00Z' }],
    })
    const [quarter, instant] = task.reminders
    const res = await tasks()({ id: task.id }).patch({
      reminders: [{ before: 'PT900S' }, { before: 'PT1H' }, { before: 'PT60M' }],
    })
    const after = expectStatus(res, 200)
    expect(after.reminders.map((r) => [r.id === quarter?.id, r.before])).toEqual([
      [true, 'PT15M'],
      [false, 'PT1H'],
    ])
    expect(after.reminders.some((r) => r.id === instant?.id)).toBe(false)
    expect(after.version).toBeGreaterThan(task.version)
    expect(res.response.headers.get('etag')).toBe(`"${after.version}"`)
    const put = expectStatus(await tasks()({ id: task.id }).put({ reminders: [] }), 200)
    expect(put.reminders).toEqual([])
    expect(await dbRows(sql`select id from reminders`)).toEqual([])
  })

  test('the change feed carries the reminders with the task', async () => {
    const task = await create({ title: 't', reminders: [{ at: '2036-01-01T09:00:00Z' }] })
    const feed = await json<{ changes: { task?: { id: number; reminders: unknown } }[] }>(
      await api.request('GET', '/api/alice/changes', { token: alice }),
    )
    expect(feed.changes.find((c) => c.task?.id === task.id)?.task?.reminders).toEqual(task.reminders)
  })
})

describe('re-arming', () => {
  test('a new due time moves before reminders, not at ones', async () => {
    const task = await create({
      title: 't',
      due_date: '2036-01-02T09:00:00Z',
      reminders: [{ before: 'PT15M' }, { at: '2036-01-01T09:00:00Z' }],
    })
    const moved = await patch(task.id, { due_date: '2036-01-05T12:00:00+02:00' })
    expect(moved.reminders.map((r) => r.fire_at)).toEqual(['2036-01-05T09:45:00.000Z', '2036-01-01T09:00:00.000Z'])
  })

  test('completing disarms; reopening re-arms the ones still ahead, not the ones whose time passed', async () => {
    const task = await create({
      title: 't',
      due_date: inMs(minutes(60)),
      reminders: [{ before: 'PT30M' }, { at: inMs(2000) }],
    })
    expect(task.reminders.every((r) => r.fire_at !== null)).toBe(true)
    const done = expectStatus(await tasks()({ id: task.id }).complete.patch({ completed: true }), 200)
    expect(done.reminders.map((r) => r.fire_at)).toEqual([null, null])
    // The instant passes while the task is done: it never fires.
    await Bun.sleep(3000)
    const reopened = expectStatus(await tasks()({ id: task.id }).complete.patch({ completed: false }), 200)
    expect(reopened.reminders.map((r) => r.fire_at)).toEqual([task.reminders[0]?.fire_at ?? 'missing', null])
    expect(await due()).toEqual([])
  })

  test('completing a parent completes its subtasks, whose reminders are disarmed too', async () => {
    const parent = await create({ title: 'parent' })
    const child = await create({ title: 'child', parent_id: parent.id, reminders: [{ at: '2036-01-01T09:00:00Z' }] })
    expectStatus(await tasks()({ id: parent.id }).complete.patch({ completed: true }), 200)
    expect((await get(child.id)).reminders.map((r) => r.fire_at)).toEqual([null])
  })

  test('an instant already past when it is set is kept but not armed (it does not fire)', async () => {
    const task = await create({ title: 't', reminders: [{ at: '2020-01-01T09:00:00Z' }] })
    expect(task.reminders).toEqual([
      { id: expect.any(Number), at: '2020-01-01T09:00:00.000Z', before: null, fire_at: null },
    ])
    await Bun.sleep(1500)
    expect(await due()).toEqual([])
  })
})

describe('firing', () => {
  test('within 2 s of its time: an event on the stream, then listed as due until acknowledged', async () => {
    const bob = await tokenFor('bob')
    const events = await openEvents(api, '/api/alice/events', { token: alice })
    expect((await events.next()).comment).toBe('connected')
    const bobs = await openEvents(api, '/api/bob/events', { token: bob })
    const task = await create({ title: 'Call mum', reminders: [{ at: inMs(2000) }] })
    const [reminder] = task.reminders

    const message = await nextReminder(events)
    // Not a change of the feed: no id, so Last-Event-ID stays a sync token.
    expect(message.id).toBeUndefined()
    const event = JSON.parse(message.data as string)
    expect(event).toEqual({
      id: reminder?.id,
      task_id: task.id,
      title: 'Call mum',
      due_date: null,
      at: reminder?.at,
      before: null,
      fire_at: reminder?.fire_at,
      state: 'due',
      fired_at: expect.any(String),
      late: false,
      acknowledged_at: null,
    })
    const lag = new Date(event.fired_at).getTime() - new Date(reminder?.fire_at as string).getTime()
    expect(lag).toBeGreaterThanOrEqual(0)
    expect(lag).toBeLessThan(2000)
    // Once: no second event, on this stream or on another user's.
    expect((await events.eventsWithin(2500)).filter((m) => m.event === 'reminder')).toEqual([])
    expect((await bobs.eventsWithin(100)).filter((m) => m.event === 'reminder')).toEqual([])

    expect(await due()).toEqual([event])
    // Firing is not a change of the task: same version, and a 304 for its ETag.
    const again = await tasks()({ id: task.id }).get({ headers: { 'if-none-match': `"${task.version}"` } })
    expect(again.status).toBe(304)

    const acked = expectStatus(await ack(event.id), 200)
    expect(acked).toEqual({ ...event, state: 'acknowledged', acknowledged_at: expect.any(String) })
    expect(await due()).toEqual([])
    expect(expectStatus(await reminders().get({ query: { state: 'acknowledged' } }), 200)).toEqual([acked])
    // Again: nothing changes.
    expect(expectStatus(await ack(event.id), 200)).toEqual(acked)
  })

  test('a stream opened just after a firing still gets it (fired within the last minute, not acknowledged)', async () => {
    const task = await create({ title: 'missed', reminders: [{ at: inMs(2000) }] })
    await firedReminderOf(task.id)
    const events = await openEvents(api, '/api/alice/events', { token: alice })
    const message = await nextReminder(events)
    expect(JSON.parse(message.data as string).task_id).toBe(task.id)
  })

  test("a recurring task's before reminders follow its next occurrence, fired and acknowledged state cleared", async () => {
    // Whole seconds: the series keeps its wall-clock time to the second.
    const first = new Date(Math.ceil((Date.now() + minutes(15) + 1500) / 1000) * 1000).toISOString()
    const task = await create({
      title: 'Water the plants',
      due_date: first,
      recurrence: { rule: 'FREQ=DAILY', tz: 'Europe/Berlin' },
      reminders: [{ before: 'PT15M' }],
    })
    const fired = await firedReminderOf(task.id)
    expect(fired).toMatchObject({ before: 'PT15M', state: 'due', late: false })
    expectStatus(await ack(fired.id), 200)
    const next = expectStatus(await tasks()({ id: task.id }).complete.patch({ completed: true }), 200)
    expect(next.completed).toBe(false)
    expect(next.due_date).toBe(shift(first, minutes(24 * 60)))
    expect(next.reminders).toEqual([
      { id: fired.id, at: null, before: 'PT15M', fire_at: shift(next.due_date as string, -minutes(15)) },
    ])
    const pending = expectStatus(await reminders().get({ query: { state: 'pending' } }), 200)
    expect(pending.map((r) => [r.id, r.state, r.fired_at, r.acknowledged_at])).toEqual([
      [fired.id, 'pending', null, null],
    ])
  })

  test('a reminder that has not fired cannot be acknowledged (409)', async () => {
    const task = await create({ title: 't', reminders: [{ at: '2036-01-01T09:00:00Z' }] })
    await expectProblem(await ack(task.reminders[0]?.id as number), 409, 'conflict')
  })

  test("another user's reminder, a made-up id and a non-canonical one are 404s", async () => {
    const task = await create({ title: 't', reminders: [{ at: inMs(2000) }] })
    const fired = await firedReminderOf(task.id)
    const bob = await tokenFor('bob')
    await expectProblem(await ack(fired.id, bob, 'bob'), 404, 'not_found')
    expect(expectStatus(await reminders(bob, 'bob').get({ query: { state: 'all' } }), 200)).toEqual([])
    await expectProblem(await ack(fired.id, bob, 'alice'), 403, 'forbidden')
    await expectProblem(await ack(2_000_000_000), 404, 'not_found')
    for (const id of ['0', '01', `${fired.id}.0`, '99999999999', 'abc']) {
      const problem = await expectProblem(
        await api.request('POST', `/api/alice/reminders/${id}/ack`, { token: alice }),
        404,
        'not_found',
      )
      // It names what is not there: a reminder, not a task.
      expect(problem.detail).toBe('No reminder with that id.')
    }
    // Still due: nothing of bob's requests acknowledged it.
    expect((await due()).map((r) => r.id)).toEqual([fired.id])
  })

  test('a task in the trash: its reminders do not fire; restored, the ones still ahead are armed again', async () => {
    const task = await create({ title: 't', reminders: [{ at: inMs(1500) }, { at: inMs(minutes(60)) }] })
    expect((await api.request('DELETE', `/api/alice/tasks/${task.id}`, { token: alice })).status).toBe(204)
    await Bun.sleep(2500)
    expect(await dbRows(sql`select id from reminders where fired_at is not null`)).toEqual([])
    const restored = await json<{ reminders: { fire_at: string | null }[] }>(
      await api.request('POST', `/api/alice/trash/${task.id}/restore`, { token: alice }),
    )
    expect(restored.reminders.map((r) => r.fire_at)).toEqual([null, task.reminders[1]?.fire_at ?? 'missing'])
    await Bun.sleep(1500)
    expect(await due()).toEqual([])
  })

  test("a fired reminder of a trashed task leaves the due list and can't be acknowledged; purging drops it", async () => {
    const task = await create({ title: 't', reminders: [{ at: inMs(2000) }] })
    const fired = await firedReminderOf(task.id)
    expect((await api.request('DELETE', `/api/alice/tasks/${task.id}`, { token: alice })).status).toBe(204)
    expect(await due()).toEqual([])
    await expectProblem(await ack(fired.id), 404, 'not_found')
    expect((await api.request('POST', `/api/alice/trash/${task.id}/restore`, { token: alice })).status).toBe(200)
    expect((await due()).map((r) => r.id)).toEqual([fired.id])
    expect((await api.request('DELETE', `/api/alice/tasks/${task.id}`, { token: alice })).status).toBe(204)
    expect((await api.request('DELETE', `/api/alice/trash/${task.id}`, { token: alice })).status).toBe(204)
    expect(await dbRows(sql`select id from reminders`)).toEqual([])
  })
})

describe('the batch route', () => {
  test('creates and updates take reminders as the single routes do, with the same 400', async () => {
    const res = await api.request('POST', '/api/alice/batch', {
      token: alice,
      body: {
        operations: [
          {
            op: 'create',
            type: 'task',
            temp_id: 't',
            data: {
              title: 'b',
              due_date: '2036-01-02T09:00:00Z',
              reminders: [{ before: 'PT10M' }],
              recurrence: { rule: 'FREQ=WEEKLY' },
            },
          },
          { op: 'update', type: 'task', id: '$t', data: { reminders: [{ before: 'PT10M' }, { before: 'PT1H' }] } },
        ],
      },
    })
    expect(res.status).toBe(200)
    const body = await json<{
      results: { task: { reminders: { before: string; fire_at: string }[]; recurrence: unknown } }[]
    }>(res)
    // Other objects in an operation's data come through as they are (a recurrence was dropped once).
    expect(body.results[0]?.task.recurrence).toEqual({ rule: 'FREQ=WEEKLY', tz: 'UTC', from: 'due' })
    expect(body.results.map((r) => r.task.reminders.map((x) => [x.before, x.fire_at]))).toEqual([
      [['PT10M', '2036-01-02T08:50:00.000Z']],
      [
        ['PT10M', '2036-01-02T08:50:00.000Z'],
        ['PT1H', '2036-01-02T08:00:00.000Z'],
      ],
    ])
    const bad = await api.request('POST', '/api/alice/batch', {
      token: alice,
      body: { operations: [{ op: 'create', type: 'task', data: { title: 'b', reminders: [{ before: 'PT10M' }] } }] },
    })
    const problem = await expectProblem(bad, 400, 'validation_failed')
    expect(problem.operation_index).toBe(0)
    expect(problem.errors).toEqual([
      { field: 'operations.0.data.reminders', message: expect.stringContaining('due time') },
    ])
    expect(await dbRows(sql`select title from tasks`)).toEqual([{ title: 'b' }])
  })
})
