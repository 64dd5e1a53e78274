import { beforeEach, describe, expect, test } from 'bun:test'
import { expectProblem, expectStatus, makeApp, type TestApp, tokenFor } from '../support/app'
import { createTask, type NewTask, tasksOf, type UpdateTask } from '../support/tasks'

let api: TestApp
let alice: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

const create = (body: NewTask) => createTask(api, alice, 'alice', body)
const task = (id: number) => tasksOf(api, alice, 'alice')({ id })
const get = async (id: number) => expectStatus(await task(id).get(), 200)
const patch = (id: number, body: UpdateTask) => task(id).patch(body)
// Values the contract does not allow go out as they are, outside the typed client.
const patchRaw = (id: number, body: unknown) => api.request('PATCH', `/api/alice/tasks/${id}`, { token: alice, body })

async function expectRefused(res: Response, field: string) {
  const problem = await expectProblem(res, 400, 'validation_failed')
  expect(problem.errors?.map((e) => e.field.split('.')[0])).toEqual([field])
}

describe('priority', () => {
  test('defaults to medium, takes low and high, and PATCH without it keeps it', async () => {
    expect((await create({ title: 'a' })).priority).toBe('medium')
    const task = await create({ title: 'b', priority: 'high' })
    expect(task.priority).toBe('high')
    const res = await patch(task.id, { title: 'b2' })
    expect(res.status).toBe(200)
    expect((await get(task.id)).priority).toBe('high')
    expect((await patch(task.id, { priority: 'low' })).data?.priority).toBe('low')
  })

  test.each([['urgent'], ['HIGH'], [3], [null]])(
    'refuses priority %p with a 400 and stores nothing',
    async (priority) => {
      await expectRefused(
        await api.request('POST', '/api/alice/tasks', { token: alice, body: { title: 'x', priority } }),
        'priority',
      )
      expect((await tasksOf(api, alice, 'alice').get()).data).toEqual([])
    },
  )
})

describe('tags', () => {
  test('are trimmed, de-duplicated case-insensitively (first spelling wins), in the given order', async () => {
    const task = await create({ title: 'x', tags: ['  Work ', 'home', 'WORK', 'Home', 'ünï', 'ÜNÏ', '🚀'] })
    expect(task.tags).toEqual(['Work', 'home', 'ünï', '🚀'])
    expect((await get(task.id)).tags).toEqual(['Work', 'home', 'ünï', '🚀'])
  })

  test('PATCH replaces the list, [] clears it, and leaving tags out keeps them', async () => {
    const task = await create({ title: 'x', tags: ['a', 'b'] })
    expect((await patch(task.id, { tags: ['c'] })).data?.tags).toEqual(['c'])
    expect((await patch(task.id, { title: 'y' })).data?.tags).toEqual(['c'])
    expect((await patch(task.id, { tags: [] })).data?.tags).toEqual([])
  })

  test('take exactly 20 tags of 50 characters (emoji count as one)', async () => {
    const tags = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}${'🙂'.repeat(48)}`)
    expect((await create({ title: 'x', tags })).tags).toEqual(tags)
  })

  test.each([
    ['21 tags', Array.from({ length: 21 }, (_, i) => `t${i}`)],
    ['a tag of 51 characters', ['a'.repeat(51)]],
    ['a blank tag', ['ok', '   ']],
    ['an empty tag', ['']],
    ['a tag with a comma', ['a,b']],
    ['a tag that is not a string', [1]],
    ['tags that are not a list', 'work'],
    ['null', null],
  ])('refuses %s with a 400 naming tags, changing nothing', async (_, tags) => {
    const task = await create({ title: 'keep', tags: ['kept'] })
    await expectRefused(
      await api.request('POST', '/api/alice/tasks', { token: alice, body: { title: 'x', tags } }),
      'tags',
    )
    await expectRefused(await patchRaw(task.id, { tags }), 'tags')
    expect((await get(task.id)).tags).toEqual(['kept'])
  })
})

describe('due_date', () => {
  test('a calendar date is stored and returned as the same date; an instant comes back in UTC', async () => {
    const date = await create({ title: 'date', due_date: '2026-03-01' })
    expect(date.due_date).toBe('2026-03-01')
    expect((await get(date.id)).due_date).toBe('2026-03-01')
    const instant = await create({ title: 'instant', due_date: '2026-03-01T09:00:00+05:00' })
    expect(instant.due_date).toBe('2026-03-01T04:00:00.000Z')
    const precise = await create({ title: 'precise', due_date: '2026-12-31T23:59:59.123456-03:30' })
    expect(precise.due_date).toBe('2027-01-01T03:29:59.123Z')
    expect((await create({ title: 'none' })).due_date).toBeNull()
  })

  test('a date can become an instant and back, and null clears it', async () => {
    const task = await create({ title: 'x', due_date: '2024-02-29' })
    expect((await patch(task.id, { due_date: '2026-03-01T09:00:00Z' })).data?.due_date).toBe('2026-03-01T09:00:00.000Z')
    expect((await patch(task.id, { due_date: '2026-03-02' })).data?.due_date).toBe('2026-03-02')
    expect((await patch(task.id, { title: 'same due' })).data?.due_date).toBe('2026-03-02')
    expect((await patch(task.id, { due_date: null })).data?.due_date).toBeNull()
  })

  test.each([
    ['2026-02-30'],
    ['2025-02-29'],
    ['2026-3-1'],
    ['2026-03-01T09:00:00'],
    ['2026-03-01T24:00:00Z'],
    ['2026-03-01T09:00:00+25:00'],
    ['tomorrow'],
    [''],
    [20260301],
    [true],
  ])('refuses due_date %p with a 400 naming due_date, changing nothing', async (due_date) => {
    const task = await create({ title: 'keep', due_date: '2026-01-01' })
    await expectRefused(
      await api.request('POST', '/api/alice/tasks', { token: alice, body: { title: 'x', due_date } }),
      'due_date',
    )
    await expectRefused(await patchRaw(task.id, { due_date }), 'due_date')
    expect((await get(task.id)).due_date).toBe('2026-01-01')
  })
})

describe('completed_at', () => {
  test('is set when a task is completed, kept when completed again, cleared when reopened', async () => {
    const task = await create({ title: 'x' })
    expect(task.completed_at).toBeNull()
    const before = Date.now()
    const done = expectStatus(await patch(task.id, { completed: true }), 200)
    expect(Date.parse(done.completed_at as string)).toBeGreaterThanOrEqual(before - 5)
    expect(Date.parse(done.completed_at as string)).toBeLessThanOrEqual(Date.now() + 5)
    const again = expectStatus(await patch(task.id, { completed: true, title: 'y' }), 200)
    expect(again.completed_at).toBe(done.completed_at)
    const reopened = expectStatus(await patch(task.id, { completed: false }), 200)
    expect(reopened.completed_at).toBeNull()
  })

  test('follows the complete route, toggles included, and a task created completed has one', async () => {
    const created = await create({ title: 'x', completed: true })
    expect(created.completed_at).toBe(created.created_at)
    const complete = async (body?: { completed: boolean }) =>
      expectStatus(await task(created.id).complete.patch(body), 200)
    expect((await complete()).completed_at).toBeNull()
    const toggled = await complete()
    expect(toggled.completed).toBe(true)
    expect(toggled.completed_at).toEqual(expect.any(String))
    expect((await complete({ completed: true })).completed_at).toBe(toggled.completed_at)
    expect((await complete({ completed: false })).completed_at).toBeNull()
  })

  test('is read-only', async () => {
    const res = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'x', completed_at: '2026-01-01T00:00:00Z' },
    })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors).toEqual([{ field: 'completed_at', message: 'is read-only and cannot be set' }])
  })
})

test('every task carries every field, and the original shape is unchanged', async () => {
  const task = await create({ title: 'x', description: 'd', completed: false })
  expect(Object.keys(task).sort()).toEqual(
    [
      'completed',
      'completed_at',
      'created_at',
      'description',
      'due_date',
      'id',
      'priority',
      'recurrence',
      'reminders',
      'tags',
      'title',
      'updated_at',
      'user_id',
      'list_id',
      'next_due',
      'parent_id',
      'position',
      'subtask_count',
      'completed_subtask_count',
      'version',
    ].sort(),
  )
})
