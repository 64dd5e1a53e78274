import { beforeEach, describe, expect, test } from 'bun:test'
import { expectProblem, expectStatus, makeApp, type TestApp, tokenFor } from '../support/app'
import {
  addDays,
  createTask,
  type ListQuery,
  listAll,
  type NewTask,
  nextLink,
  type TaskOut,
  tasksOf,
  titlesOf,
  todayIn,
} from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

const create = (body: NewTask) => createTask(api, alice, 'alice', body)
const list = (query: ListQuery) => tasksOf(api, alice, 'alice').get({ query })
/**
 * Titles of every task a query finds. A query string is sent as it is: for the spellings the
 * typed client does not write (comma lists), which are part of the contract too.
 */
const titles = async (query: ListQuery | string) =>
  titlesOf(api, alice, typeof query === 'string' ? `/api/alice/tasks?${query}` : await list(query))
const sorted = (values: string[]) => [...values].sort()

describe('filters', () => {
  test('priority: one value, a comma list, or repeated', async () => {
    await create({ title: 'low', priority: 'low' })
    await create({ title: 'medium' })
    await create({ title: 'high', priority: 'high' })
    expect(await titles({ priority: ['high'] })).toEqual(['high'])
    expect(sorted(await titles('priority=high,low'))).toEqual(['high', 'low'])
    expect(sorted(await titles({ priority: ['medium', 'low'] }))).toEqual(['low', 'medium'])
  })

  test("tag: all by default, any with tag_mode=any, in any case; another user's tags never match", async () => {
    await create({ title: 'work', tags: ['Work'] })
    await create({ title: 'work urgent', tags: ['work', 'URGENT'] })
    await create({ title: 'home', tags: ['home'] })
    await create({ title: 'none' })
    await createTask(api, bob, 'bob', { title: 'bob work', tags: ['work'] })
    expect(sorted(await titles({ tag: ['WORK'] }))).toEqual(['work', 'work urgent'])
    expect(await titles({ tag: ['work', 'urgent'] })).toEqual(['work urgent'])
    expect(await titles('tag=work,urgent')).toEqual(['work urgent'])
    expect(sorted(await titles({ tag: ['urgent', 'home'], tag_mode: 'any' }))).toEqual(['home', 'work urgent'])
    expect(await titles({ tag: ['nothing'] })).toEqual([])
  })

  test('has_due and status combine with the others', async () => {
    await create({ title: 'dated', due_date: '2026-03-01' })
    await create({ title: 'timed', due_date: '2026-03-01T10:00:00Z', completed: true })
    await create({ title: 'undated' })
    expect(sorted(await titles({ has_due: true }))).toEqual(['dated', 'timed'])
    expect(await titles({ has_due: false })).toEqual(['undated'])
    expect(await titles({ has_due: true, status: 'completed' })).toEqual(['timed'])
    expect(await titles({ has_due: true, status: 'pending', priority: ['medium'] })).toEqual(['dated'])
  })

  test('due_before is strict and due_after inclusive, so two of them make a half-open range', async () => {
    await create({ title: 'feb28', due_date: '2026-02-28' })
    await create({ title: 'mar1', due_date: '2026-03-01' })
    await create({ title: 'mar1 9am', due_date: '2026-03-01T09:00:00Z' })
    await create({ title: 'mar2', due_date: '2026-03-02' })
    await create({ title: 'undated' })
    expect(sorted(await titles({ due_before: '2026-03-01' }))).toEqual(['feb28'])
    expect(sorted(await titles({ due_after: '2026-03-01', due_before: '2026-03-02' }))).toEqual(['mar1', 'mar1 9am'])
    expect(sorted(await titles({ due_after: '2026-03-02' }))).toEqual(['mar2'])
    expect(sorted(await titles({ due_before: '2026-03-01T09:00:00Z' }))).toEqual(['feb28', 'mar1'])
    expect(sorted(await titles({ due_after: '2026-03-01T09:00:00Z' }))).toEqual(['mar1 9am', 'mar2'])
    expect(
      sorted(await titles({ due_after: '2026-03-01T10:00:00+01:00', due_before: '2026-03-01T09:00:01Z' })),
    ).toEqual(['mar1 9am'])
  })

  test('a calendar date never moves with the time zone; a date bound starts at midnight in tz', async () => {
    const date = await create({ title: 'mar1', due_date: '2026-03-01' })
    await create({ title: 'mar1 3am utc', due_date: '2026-03-01T03:00:00Z' })
    for (const tz of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Europe/Berlin', 'UTC']) {
      const range = { due_after: '2026-03-01', due_before: '2026-03-02', tz, has_due: true, q: 'mar1' }
      expect(await titles(range)).toContain('mar1')
      expect(await titles({ due_before: '2026-03-01', tz })).not.toContain('mar1')
    }
    // 03:00Z is 2026-02-28 in New York (UTC-5) and 2026-03-01 in Berlin (UTC+1).
    expect(await titles({ due_before: '2026-03-01', tz: 'America/New_York' })).toEqual(['mar1 3am utc'])
    expect(await titles({ due_before: '2026-03-01', tz: 'Europe/Berlin' })).toEqual([])
    const stored = await tasksOf(api, alice, 'alice')({ id: date.id }).get()
    expect(stored.data?.due_date).toBe('2026-03-01')
  })

  test('overdue: open tasks past their instant, or dated before today in tz, in two zones', async () => {
    const now = Date.now()
    await create({ title: 'a minute ago', due_date: new Date(now - 60_000).toISOString() })
    await create({ title: 'in a minute', due_date: new Date(now + 60_000).toISOString() })
    await create({ title: 'done long ago', due_date: '2020-01-01', completed: true })
    await create({ title: 'undated' })
    const utcToday = todayIn('UTC')
    const dated: string[] = []
    for (let d = -2; d <= 2; d++) {
      const due = addDays(utcToday, d)
      dated.push(due)
      await create({ title: due, due_date: due })
    }
    // Kiritimati (UTC+14) and Pago Pago (UTC-11) are on different calendar days for most of the
    // day, so the same dates are overdue in one and not in the other.
    for (const tz of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'UTC']) {
      const today = todayIn(tz)
      const expected = ['a minute ago', ...dated.filter((due) => due < today)]
      expect(sorted(await titles({ overdue: true, tz }))).toEqual(sorted(expected))
      const notOverdue = await titles({ overdue: false, tz })
      expect(sorted(notOverdue)).toEqual(
        sorted(['in a minute', 'done long ago', 'undated', ...dated.filter((due) => due >= today)]),
      )
    }
    expect(sorted(await titles({ overdue: true }))).toEqual(sorted(await titles({ overdue: true, tz: 'UTC' })))
  })
})

describe('search', () => {
  beforeEach(async () => {
    await create({ title: 'Meeting notes', description: 'Agenda for the quarterly review' })
    await create({ title: 'Buy milk', description: 'Two litres' })
    await create({ title: 'Plan meetings', description: null })
    await create({ title: 'Notary appointment' })
    await create({ title: 'Café au lait' })
    await createTask(api, bob, 'bob', { title: 'Meeting with Alice' })
  })

  test.each([
    ['meet', ['Meeting notes', 'Plan meetings']],
    ['MEETINGS', ['Meeting notes', 'Plan meetings']],
    ['meeting', ['Meeting notes', 'Plan meetings']],
    ['not', ['Meeting notes', 'Notary appointment']],
    ['note', ['Meeting notes']],
    ['notes meet', ['Meeting notes']],
    ['meeting notes', ['Meeting notes']],
    ['quarterly', ['Meeting notes']],
    ['reviews', ['Meeting notes']],
    ['litre', ['Buy milk']],
    ['the agenda', ['Meeting notes']],
    ['café', ['Café au lait']],
    ['milk & (tea | !x)', []],
    ["buy' :* milk", ['Buy milk']],
    ['nothing here', []],
  ])("q=%s finds %p and never another user's tasks", async (q, expected) => {
    expect(sorted(await titles({ q }))).toEqual(sorted(expected))
  })

  test('a blank q is no search; combined with filters and sort', async () => {
    expect((await titles({ q: '  ' })).length).toBe(5)
    await create({ title: 'Meeting room booking', priority: 'high' })
    expect(await titles({ q: 'meet', priority: ['high'] })).toEqual(['Meeting room booking'])
    expect(await titles({ q: 'meet', sort: 'title' })).toEqual([
      'Meeting notes',
      'Meeting room booking',
      'Plan meetings',
    ])
  })
})

// Values that make ties on every sort key, dates and instants on the same days, and tasks
// without a due date or completion time.
const SEED: NewTask[] = [
  { title: 'banana', priority: 'high', due_date: '2026-03-01', completed: true },
  { title: 'Apple', priority: 'low', due_date: '2026-03-01T08:00:00Z' },
  { title: 'cherry', priority: 'medium' },
  { title: 'apple', priority: 'high', due_date: '2026-02-28', completed: true },
  { title: 'Date', priority: 'medium', due_date: '2026-03-01' },
  { title: 'elder', priority: 'low', due_date: '2026-03-01T00:00:00Z' },
  { title: 'fig', priority: 'high' },
  { title: 'grape', priority: 'medium', due_date: '2026-02-28T23:59:59Z', completed: true },
  { title: 'Banana', priority: 'low' },
  { title: 'honeydew', priority: 'high', due_date: '2026-03-03' },
  { title: 'kiwi', priority: 'medium', completed: true },
  { title: 'lemon', priority: 'low', due_date: '2026-03-02T12:00:00+02:00' },
  { title: 'mango', priority: 'high', due_date: '2026-03-01' },
]

type Key = 'created' | 'updated' | 'title' | 'due_date' | 'priority' | 'completed_at'
const RANK = { low: 0, medium: 1, high: 2 }
const dueValue = (t: TaskOut) =>
  t.due_date === null ? null : Date.parse(t.due_date.length === 10 ? `${t.due_date}T00:00:00Z` : t.due_date)
const VALUE: Record<Key, (t: TaskOut) => string | number | null> = {
  created: (t) => t.created_at,
  updated: (t) => t.updated_at,
  title: (t) => t.title.toLowerCase(),
  due_date: dueValue,
  priority: (t) => RANK[t.priority],
  completed_at: (t) => t.completed_at,
}

/** The order the API promises, computed here: by value, nulls last, ties by id, all one way. */
function expectedOrder(tasks: TaskOut[], key: Key, direction: 'asc' | 'desc') {
  const sign = direction === 'asc' ? 1 : -1
  return [...tasks]
    .sort((a, b) => {
      const [x, y] = [VALUE[key](a), VALUE[key](b)]
      if (x === null || y === null) return x === y ? sign * (a.id - b.id) : x === null ? 1 : -1
      if (x !== y) return sign * (x < y ? -1 : 1)
      return sign * (a.id - b.id)
    })
    .map((t) => t.id)
}

describe('sort and keyset pagination', () => {
  let seeded: TaskOut[]
  beforeEach(async () => {
    seeded = []
    // In parallel, so that several tasks share a created_at (ties broken by id).
    for (let i = 0; i < SEED.length; i += 4)
      seeded.push(...(await Promise.all(SEED.slice(i, i + 4).map((body) => create(body)))))
    // Complete one more later, so completion times differ.
    const late = seeded.find((t) => t.title === 'mango') as TaskOut
    await tasksOf(api, alice, 'alice')({ id: late.id }).complete.patch({ completed: true })
    seeded = await listAll(api, alice, await list({}))
  })

  for (const key of ['created', 'updated', 'title', 'due_date', 'priority', 'completed_at'] as Key[])
    for (const direction of ['asc', 'desc'] as const)
      test(`sort=${key}&order=${direction}, 3 per page, matches the order computed here`, async () => {
        const got = await listAll(api, alice, await list({ sort: key, order: direction, limit: 3 }), 3)
        expect(got.map((t) => t.id)).toEqual(expectedOrder(seeded, key, direction))
      })

  test('a leading "-" is descending; each sort has its natural default direction', async () => {
    const ids = async (query: ListQuery) => (await listAll(api, alice, await list(query))).map((t) => t.id)
    expect(await ids({ sort: '-priority', limit: 2 })).toEqual(expectedOrder(seeded, 'priority', 'desc'))
    expect(await ids({ sort: '-title', order: 'desc', limit: 5 })).toEqual(expectedOrder(seeded, 'title', 'desc'))
    expect(await ids({ sort: 'priority' })).toEqual(expectedOrder(seeded, 'priority', 'desc'))
    expect(await ids({ sort: 'title' })).toEqual(expectedOrder(seeded, 'title', 'asc'))
    expect(await ids({ sort: 'due_date', limit: 4 })).toEqual(expectedOrder(seeded, 'due_date', 'asc'))
    expect(await ids({})).toEqual(expectedOrder(seeded, 'created', 'desc'))
  })

  test('filters and sort together, across pages', async () => {
    const query = { status: 'pending', has_due: true, sort: '-due_date', limit: 2 } as const
    const got = await listAll(api, alice, await list(query), 2)
    const expected = expectedOrder(
      seeded.filter((t) => !t.completed && t.due_date !== null),
      'due_date',
      'desc',
    )
    expect(got.map((t) => t.id)).toEqual(expected)
    expect(expected.length).toBeGreaterThan(2)
  })

  test('tasks created between pages neither repeat nor go missing, in every sort', async () => {
    for (const sort of ['title', '-due_date', 'priority', 'completed_at'] as const) {
      const first = await list({ sort, limit: 5 })
      const firstPage = expectStatus(first, 200)
      const added = await create({ title: `added ${sort}`, due_date: '2026-03-01' })
      const rest = await listAll(api, alice, nextLink(first.response) as string)
      const ids = [...firstPage, ...rest].map((t) => t.id)
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids.filter((id) => id !== added.id).sort()).toEqual(seeded.map((t) => t.id).sort())
      await tasksOf(api, alice, 'alice')({ id: added.id }).delete()
    }
  })

  test('a cursor only works with the query it came from, and cannot be forged', async () => {
    const first = await list({ sort: 'title', tag: ['x'], tag_mode: 'any', limit: 2 })
    const link = nextLink(first.response)
    expect(link).toBeNull() // nothing is tagged x
    const res = await list({ sort: 'title', limit: 2 })
    const cursor = new URL(nextLink(res.response) as string, 'http://x').searchParams.get('cursor') as string
    for (const other of [
      { sort: '-title' },
      { sort: 'due_date' },
      { sort: 'title', priority: ['high'] },
      { sort: 'title', q: 'apple' },
      { sort: 'title', tz: 'Europe/Berlin' },
    ] satisfies ListQuery[]) {
      const replay = await list({ ...other, cursor })
      const problem = await expectProblem(replay, 400, 'validation_failed')
      expect(problem.errors?.[0]?.field).toBe('cursor')
    }
    const same = await list({ limit: 4, sort: 'title', order: 'asc', cursor })
    expect(same.status).toBe(200)
    const [data, mac] = cursor.split('.') as [string, string]
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(data, 'base64url').toString()), i: 1 }),
    ).toString('base64url')
    await expectProblem(await list({ sort: 'title', cursor: `${forged}.${mac}` }), 400, 'validation_failed')
  })
})

describe('the largest queries page to the end', () => {
  test('20 tags of 50 two-byte characters, sorted by 255-character titles: every Link works', async () => {
    const tag = Array.from({ length: 20 }, (_, i) => `tag ${i} `.padEnd(50, 'é'))
    // Characters that JSON escapes into six bytes each, and ones that take four in UTF-8.
    const titles = [`a${'\u0001'.repeat(254)}`, 'b'.repeat(255), '𝕔'.repeat(255)]
    for (const title of titles) await create({ title, tags: tag })
    const query = { tag, sort: 'title', limit: 1 } as const
    const first = await list(query)
    const cursor = new URL(nextLink(first.response) as string, 'http://x').searchParams.get('cursor') as string
    // The contract's own limit for a cursor, which the server must keep to.
    expect(cursor.length).toBeLessThanOrEqual(2048)
    expect((await listAll(api, alice, first, 1)).map((t) => t.title)).toEqual(titles)
  })
})

describe('invalid parameters', () => {
  test.each([
    ['priority=urgent', 'priority'],
    ['priority=high,urgent', 'priority'],
    ['tag_mode=some', 'tag_mode'],
    [`tag=${'a'.repeat(51)}`, 'tag'],
    ['due_before=2026-02-30', 'due_before'],
    ['due_after=yesterday', 'due_after'],
    ['due_after=2026-03-01T09:00', 'due_after'],
    ['overdue=yes', 'overdue'],
    ['has_due=1', 'has_due'],
    ['tz=Mars/Olympus', 'tz'],
    ['tz=%2B05:00', 'tz'],
    ['tz=', 'tz'],
    ['sort=size', 'sort'],
    ['sort=-', 'sort'],
    ['order=up', 'order'],
    ['sort=-title&order=asc', 'order'],
    [`q=${'x'.repeat(201)}`, 'q'],
    ['q=%21%21%21', 'q'],
    ['q=%E2%80%AE', 'q'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    // Only a plain decimal, as for task ids: Elysia's coercion reads all of these as numbers.
    ['limit=0x10', 'limit'],
    ['limit=1e2', 'limit'],
    ['limit=%205', 'limit'],
    ['limit=5.0', 'limit'],
    ['limit=%2B5', 'limit'],
    ['limit=05', 'limit'],
    ['list_id=0734', 'list_id'],
    ['list_id=%2B7', 'list_id'],
    ['list_id=7.0', 'list_id'],
    ['list_id=0x7', 'list_id'],
    ['sort=title&sort=created', 'sort'],
    ['tz=UTC&tz=UTC', 'tz'],
    ['color=red', 'color'],
  ])('%s is a 400 naming %s', async (query, field) => {
    const res = await api.request('GET', `/api/alice/tasks?${query}`, { token: alice })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors?.map((e) => e.field)).toEqual([field])
    expect(problem.detail).toContain(field)
    expect(problem.detail).toStartWith('The query parameters are invalid:')
  })

  test('a q of only invisible characters is told it needs a letter or digit, as punctuation is', async () => {
    for (const q of ['\u202e', '\u200d\u2066', '!!!']) {
      const res = await api.request('GET', `/api/alice/tasks?q=${encodeURIComponent(q)}`, { token: alice })
      const problem = await expectProblem(res, 400, 'validation_failed')
      expect(problem.errors).toEqual([{ field: 'q', message: 'must contain at least one letter or digit' }])
    }
  })
})
