import { beforeEach, describe, expect, test } from 'bun:test'
import { expectProblem, expectStatus, makeApp, type TestApp, tokenFor } from '../support/app'
import { addDays, createTask, type NewTask, todayIn } from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

const create = (body: NewTask) => createTask(api, alice, 'alice', body)
const user = (token = alice, id = 'alice') => api.as(token).api({ user_id: id })
const tagsOf = async (token = alice, id = 'alice') => expectStatus(await user(token, id).tags.get(), 200)
const statsOf = async (tz?: string) => expectStatus(await user().tasks.stats.get({ query: { tz } }), 200)

describe('GET /api/{user_id}/tags', () => {
  test('counts tasks per tag, case-insensitively, most used first, in the most common spelling', async () => {
    await create({ title: 'a', tags: ['Work', 'home'] })
    await create({ title: 'b', tags: ['work'] })
    await create({ title: 'c', tags: ['Work', 'errands'] })
    await create({ title: 'd', tags: ['Home'] })
    await create({ title: 'e' })
    await createTask(api, bob, 'bob', { title: 'bob', tags: ['secret', 'work'] })
    expect(await tagsOf()).toEqual([
      { tag: 'Work', count: 3 },
      { tag: 'Home', count: 2 },
      { tag: 'errands', count: 1 },
    ])
    expect(await tagsOf(bob, 'bob')).toEqual([
      { tag: 'secret', count: 1 },
      { tag: 'work', count: 1 },
    ])
  })

  test("is empty for a new user, refuses unknown parameters, and is the owner's only", async () => {
    expect(await tagsOf()).toEqual([])
    await expectProblem(
      await api.request('GET', '/api/alice/tags?sort=name', { token: alice }),
      400,
      'validation_failed',
    )
    await expectProblem(await user(alice, 'bob').tags.get(), 403, 'forbidden')
    await expectProblem(await api.client.api({ user_id: 'alice' }).tags.get(), 401, 'unauthorized')
  })
})

describe('GET /api/{user_id}/tasks/stats', () => {
  test('counts everything in one answer, for the owner only', async () => {
    const utcToday = todayIn('UTC')
    await create({ title: 'overdue date', due_date: addDays(utcToday, -3), priority: 'high', tags: ['Work'] })
    await create({
      title: 'overdue instant',
      due_date: new Date(Date.now() - 3_600_000 * 30).toISOString(),
      tags: ['work', 'x'],
    })
    await create({ title: 'done overdue', due_date: addDays(utcToday, -3), completed: true, tags: ['work'] })
    await create({ title: 'future', due_date: addDays(utcToday, 5), priority: 'low' })
    await create({ title: 'undated', priority: 'low' })
    await createTask(api, bob, 'bob', { title: 'bob', due_date: addDays(utcToday, -3), tags: ['work'] })
    expect(await statsOf()).toEqual({
      total: 5,
      completed: 1,
      pending: 4,
      overdue: 2,
      due_today: 0,
      by_priority: { high: 1, medium: 2, low: 2 },
      by_tag: [
        { tag: 'work', total: 3, pending: 2 },
        { tag: 'x', total: 1, pending: 1 },
      ],
    })
  })

  test('overdue and due_today follow the calendar day of tz', async () => {
    const zones = ['Pacific/Kiritimati', 'Pacific/Pago_Pago']
    const dates = [-1, 0, 1].map((d) => addDays(todayIn('UTC'), d))
    for (const due of dates) await create({ title: due, due_date: due })
    await create({ title: 'done today', due_date: todayIn('UTC'), completed: true })
    // A minute from now: due today in a zone unless its midnight falls within that minute.
    const soon = new Date(Date.now() + 60_000)
    await create({ title: 'soon', due_date: soon.toISOString() })
    for (const tz of [...zones, 'UTC']) {
      const today = todayIn(tz)
      const stats = await statsOf(tz)
      expect(stats.overdue).toBe(dates.filter((d) => d < today).length)
      expect(stats.due_today).toBe(dates.filter((d) => d === today).length + (todayIn(tz, soon) === today ? 1 : 0))
    }
  })

  test('an empty account has zeros; a bad tz or an unknown parameter is a 400 naming it', async () => {
    expect(await statsOf()).toEqual({
      total: 0,
      completed: 0,
      pending: 0,
      overdue: 0,
      due_today: 0,
      by_priority: { high: 0, medium: 0, low: 0 },
      by_tag: [],
    })
    for (const [query, field] of [
      ['tz=Nowhere/Land', 'tz'],
      ['tz=%2B02:00', 'tz'],
      ['status=open', 'status'],
      // Refused as on the list, even when the two agree: a repeat is ambiguous, not guessed.
      ['tz=UTC&tz=UTC', 'tz'],
      ['tz=UTC&tz=Europe/Berlin', 'tz'],
      ['list_id=07', 'list_id'],
    ] as const) {
      const problem = await expectProblem(
        await api.request('GET', `/api/alice/tasks/stats?${query}`, { token: alice }),
        400,
        'validation_failed',
      )
      expect(problem.errors?.map((e) => e.field)).toEqual([field])
    }
    await expectProblem(await user(alice, 'bob').tasks.stats.get(), 403, 'forbidden')
  })
})
