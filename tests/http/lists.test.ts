import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, expectStatus, makeApp, type TestApp, tokenFor } from '../support/app'
import { allLists, createList, dbRows, listsOf, storedTasks } from '../support/lists'
import { createTask, tasksOf } from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

const lists = (token = alice, user = 'alice') => listsOf(api, token, user)
const list = (id: number, token = alice, user = 'alice') => lists(token, user)({ list_id: id })
const create = (name: string, color?: string | null) => createList(api, alice, 'alice', { name, color })
const inbox = async (token = alice, user = 'alice') => {
  const found = (await allLists(api, token, user)).find((l) => l.is_default)
  if (!found) throw new Error('no default list')
  return found
}
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe('lists', () => {
  test('a user seen for the first time (an external token) already has its Inbox, and only its own lists', async () => {
    expect(await allLists(api, alice, 'alice')).toEqual([
      {
        id: expect.any(Number),
        name: 'Inbox',
        color: null,
        position: expect.any(String),
        is_default: true,
        open_count: 0,
        completed_count: 0,
        created_at: expect.stringMatching(ISO_UTC),
        updated_at: expect.stringMatching(ISO_UTC),
        version: 1,
      },
    ])
    await create('Work')
    expect((await allLists(api, bob, 'bob')).map((l) => l.name)).toEqual(['Inbox'])
    const rows = await dbRows<{ user_id: string; n: number }>(
      sql`select user_id, count(*)::int as n from lists where is_default group by user_id order by user_id`,
    )
    expect(rows).toEqual([
      { user_id: 'alice', n: 1 },
      { user_id: 'bob', n: 1 },
    ])
  })

  test('create: 201 with Location, trimmed name, lower-cased colour, last in order', async () => {
    const res = await lists().post({ name: '  Groceries ', color: '#3B82F6' })
    const created = expectStatus(res, 201)
    expect(created).toMatchObject({ name: 'Groceries', color: '#3b82f6', is_default: false, open_count: 0 })
    expect(res.response.headers.get('location')).toBe(`/api/alice/lists/${created.id}`)
    await create('Work')
    expect((await allLists(api, alice, 'alice')).map((l) => l.name)).toEqual(['Inbox', 'Groceries', 'Work'])
    expect(expectStatus(await list(created.id).get(), 200)).toEqual(created)
  })

  test('names are unique per user whatever their case; another user may use the same name', async () => {
    await create('Work')
    const taken = await expectProblem(await lists().post({ name: 'WORK' }), 409, 'list_name_taken')
    expect(taken.detail).toContain('already')
    await expectProblem(await lists().post({ name: 'inbox' }), 409, 'list_name_taken')
    const other = await create('Home')
    await expectProblem(await list(other.id).patch({ name: ' work ' }), 409, 'list_name_taken')
    expect(await createList(api, bob, 'bob', { name: 'Work' })).toMatchObject({ name: 'Work' })
    const names = await dbRows<{ name: string }>(sql`select name from lists where user_id = 'alice' order by id`)
    expect(names.map((r) => r.name)).toEqual(['Inbox', 'Work', 'Home'])
  })

  test('names that differ only in Unicode form (NFC, NFD) are the same name; stored in form C', async () => {
    const composed = await create('Caf\u00e9')
    for (const name of ['Cafe\u0301', 'CAFE\u0301', 'caf\u00c9'])
      await expectProblem(await lists().post({ name }), 409, 'list_name_taken')
    const other = await create('Cr\u00e8me')
    await expectProblem(await list(other.id).patch({ name: 'cafe\u0301' }), 409, 'list_name_taken')
    const decomposed = await create('Pie\u0300ce')
    expect(decomposed.name).toBe('Pi\u00e8ce')
    await expectProblem(await lists().post({ name: 'PI\u00c8CE' }), 409, 'list_name_taken')
    expect(expectStatus(await list(composed.id).patch({ name: 'Ku\u0308che' }), 200).name).toBe('K\u00fcche')
    const names = await dbRows<{ name: string }>(sql`select name from lists where user_id = 'alice' order by id`)
    expect(names.map((r) => r.name)).toEqual(['Inbox', 'K\u00fcche', 'Cr\u00e8me', 'Pi\u00e8ce'])
  })

  test('validation: name 1 to 100 characters, colour #rrggbb, no unknown fields, a non-empty PATCH', async () => {
    for (const body of [
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 'x', color: 'blue' },
      { name: 'x', color: '#12345' },
      { name: 'x', position: 'a0' },
      { name: 'x', is_default: true },
      {},
    ]) {
      const res = await api.request('POST', '/api/alice/lists', { token: alice, body })
      await expectProblem(res, 400, 'validation_failed')
    }
    expect(await create('😀'.repeat(100))).toMatchObject({ name: '😀'.repeat(100) })
    const inboxId = (await inbox()).id
    await expectProblem(
      await api.request('PATCH', `/api/alice/lists/${inboxId}`, { token: alice, body: {} }),
      400,
      'validation_failed',
    )
    expect((await allLists(api, alice, 'alice')).length).toBe(2)
  })

  test('the Inbox can be renamed and recoloured but never deleted', async () => {
    const { id } = await inbox()
    const renamed = expectStatus(await list(id).patch({ name: 'Start here', color: '#000000' }), 200)
    expect(renamed).toMatchObject({ name: 'Start here', color: '#000000', is_default: true })
    expect(expectStatus(await list(id).patch({ color: null }), 200).color).toBeNull()
    const problem = await expectProblem(await list(id).delete(), 409, 'default_list')
    expect(problem.detail).toContain('default list')
    expect((await allLists(api, alice, 'alice')).map((l) => l.name)).toEqual(['Start here'])
  })

  test("another user's list is a 404 on every route, and an unknown one too", async () => {
    const bobs = await createList(api, bob, 'bob', { name: 'Secret' })
    await expectProblem(await list(bobs.id).get(), 404, 'not_found')
    await expectProblem(await list(bobs.id).patch({ name: 'Mine' }), 404, 'not_found')
    await expectProblem(await list(bobs.id).delete(), 404, 'not_found')
    await expectProblem(await list(bobs.id).move.post({ after_id: (await inbox()).id }), 404, 'not_found')
    await expectProblem(await list(999_999).get(), 404, 'not_found')
    for (const path of ['0x1', '01', '0', '2147483648', 'abc']) {
      const problem = await expectProblem(
        await api.request('GET', `/api/alice/lists/${path}`, { token: alice }),
        404,
        'not_found',
      )
      expect(problem.detail).toBe('No list with that id.')
    }
    await expectProblem(await lists(alice, 'bob').get(), 403, 'forbidden')
    // Another user's list as a task's list is refused as if it did not exist.
    await expectProblem(
      await tasksOf(api, alice, 'alice').post({ title: 'x', list_id: bobs.id }),
      400,
      'validation_failed',
    )
    const [row] = await dbRows<{ name: string }>(sql`select name from lists where id = ${bobs.id}`)
    expect(row?.name).toBe('Secret')
  })

  test('deleting a list with tasks is a 409 naming the count, unless ?tasks=delete or ?tasks=move', async () => {
    const work = await create('Work')
    const home = await create('Home')
    const { id: inboxId } = await inbox()
    const kept = await createTask(api, alice, 'alice', { title: 'already in inbox' })
    const a = await createTask(api, alice, 'alice', { title: 'a', list_id: work.id })
    const b = await createTask(api, alice, 'alice', { title: 'b', list_id: work.id, after_id: a.id })
    const sub = await createTask(api, alice, 'alice', { title: 'a.1', parent_id: a.id, completed: true })
    await createTask(api, alice, 'alice', { title: 'h', list_id: home.id })
    expect(expectStatus(await list(work.id).get(), 200)).toMatchObject({ open_count: 2, completed_count: 1 })

    const problem = await expectProblem(await list(work.id).delete(), 409, 'list_not_empty')
    expect(problem.task_count).toBe(3)
    expect(problem.detail).toContain('3 tasks')
    await expectProblem(
      await api.request('DELETE', `/api/alice/lists/${work.id}?tasks=keep`, { token: alice }),
      400,
      'validation_failed',
    )

    const moved = await list(work.id).delete(undefined, { query: { tasks: 'move' } })
    expect(moved.status, JSON.stringify(moved.error?.value)).toBe(204)
    const stored = await storedTasks('alice')
    expect(stored.map((t) => [t.title, t.list_id, t.parent_id])).toEqual([
      ['already in inbox', inboxId, null],
      ['a', inboxId, null],
      ['b', inboxId, null],
      ['a.1', inboxId, a.id],
      ['h', home.id, null],
    ])
    // After the Inbox's own tasks, in their order; the subtask stays under its parent.
    const inboxOrder = await tasksOf(api, alice, 'alice').get({ query: { list_id: inboxId, sort: 'position' } })
    expect(expectStatus(inboxOrder, 200).map((t) => t.id)).toEqual([kept.id, a.id, sub.id, b.id])
    expect(expectStatus(await list(inboxId).get(), 200)).toMatchObject({ open_count: 3, completed_count: 1 })

    expect((await list(home.id).delete(undefined, { query: { tasks: 'delete' } })).status).toBe(204)
    expect((await storedTasks('alice')).map((t) => t.title)).toEqual(['already in inbox', 'a', 'b', 'a.1'])
    await expectProblem(await list(home.id).get(), 404, 'not_found')
    // An empty list needs no parameter.
    const empty = await create('Empty')
    expect((await list(empty.id).delete()).status).toBe(204)
  })

  test('?tasks given twice is a 400, never the last one winning (move then delete deleted the tasks)', async () => {
    const work = await create('Work')
    await createTask(api, alice, 'alice', { title: 'keep me', list_id: work.id })
    for (const query of ['tasks=move&tasks=delete', 'tasks=delete&tasks=move', 'tasks=move&tasks=move']) {
      const problem = await expectProblem(
        await api.request('DELETE', `/api/alice/lists/${work.id}?${query}`, { token: alice }),
        400,
        'validation_failed',
      )
      expect(problem.errors).toEqual([{ field: 'tasks', message: 'is given more than once' }])
    }
    expect((await storedTasks('alice')).map((t) => [t.title, t.list_id])).toEqual([['keep me', work.id]])
    expectStatus(await list(work.id).get(), 200)
  })

  test('at most 500 lists, then a 409 of its own', async () => {
    await inbox()
    // Straight into the database: 499 requests would take the test's whole time.
    await dbRows(
      sql`insert into lists (user_id, name, position) select 'alice', 'L' || n, 'c' || lpad(n::text, 3, '0') from generate_series(1, 499) n returning id`,
    )
    expect((await allLists(api, alice, 'alice')).length).toBe(500)
    const problem = await expectProblem(await lists().post({ name: 'one more' }), 409, 'list_limit')
    expect(problem.detail).toContain('500')
    expect((await allLists(api, alice, 'alice')).length).toBe(500)
  })

  test('move: after_id or before_id reorders; anchors must be your other lists', async () => {
    const { id: inboxId } = await inbox()
    const a = await create('A')
    const b = await create('B')
    const c = await create('C')
    const names = async () => (await allLists(api, alice, 'alice')).map((l) => l.name)
    expect(expectStatus(await list(c.id).move.post({ before_id: inboxId }), 200).name).toBe('C')
    expect(await names()).toEqual(['C', 'Inbox', 'A', 'B'])
    expectStatus(await list(c.id).move.post({ after_id: b.id }), 200)
    expect(await names()).toEqual(['Inbox', 'A', 'B', 'C'])
    expectStatus(await list(a.id).move.post({ after_id: b.id, before_id: c.id }), 200)
    expect(await names()).toEqual(['Inbox', 'B', 'A', 'C'])
    const bobs = await createList(api, bob, 'bob', { name: 'X' })
    for (const body of [
      { after_id: bobs.id },
      { before_id: a.id },
      { after_id: 999_999 },
      {},
      { after_id: c.id, before_id: b.id },
    ])
      await expectProblem(await list(a.id).move.post(body), 400, 'validation_failed')
    expect(await names()).toEqual(['Inbox', 'B', 'A', 'C'])
  })

  test('move: after_id and before_id together must be neighbours, or two lists would share a position', async () => {
    const { id: inboxId } = await inbox()
    const a = await create('A')
    const b = await create('B')
    const c = await create('C')
    const problem = await expectProblem(
      await list(c.id).move.post({ after_id: inboxId, before_id: b.id }),
      400,
      'validation_failed',
    )
    expect(problem.errors).toEqual([{ field: 'before_id', message: 'must be the sibling right after after_id' }])
    const positions = (await allLists(api, alice, 'alice')).map((l) => l.position)
    expect(new Set(positions).size).toBe(4)
    expect((await allLists(api, alice, 'alice')).map((l) => l.name)).toEqual(['Inbox', 'A', 'B', 'C'])
    expectStatus(await list(c.id).move.post({ after_id: a.id, before_id: b.id }), 200)
    expect((await allLists(api, alice, 'alice')).map((l) => l.name)).toEqual(['Inbox', 'A', 'C', 'B'])
  })

  test('20 concurrent moves of lists never give two the same position', async () => {
    const created = []
    for (let i = 0; i < 20; i++) created.push(await create(`L${i}`))
    const { id: inboxId } = await inbox()
    const answers = await Promise.all(created.map((l) => list(l.id).move.post({ after_id: inboxId })))
    for (const answer of answers) expectStatus(answer, 200)
    const positions = (await allLists(api, alice, 'alice')).map((l) => l.position)
    expect(new Set(positions).size).toBe(21)
    expect([...positions].sort()).toEqual(positions)
  })
})
