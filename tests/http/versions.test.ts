import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { createList, dbRows } from '../support/lists'
import { createTask } from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

type Versioned = { id: number; version: number; title?: string; name?: string }

const send = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown, token = alice) =>
  api.request(method, path, { token, headers, body })

const stored = async (id: number) =>
  (
    await dbRows<{ title: string; version: number; completed: boolean; list_id: number }>(
      sql`select title, version, completed, list_id from tasks where id = ${id}`,
    )
  )[0]

describe('versions and ETags', () => {
  test('every answer with a task carries its version as a strong ETag; each change grows it', async () => {
    const created = await send('POST', '/api/alice/tasks', {}, { title: 'a' })
    const task = await json<Versioned>(created)
    expect(created.headers.get('etag')).toBe(`"${task.version}"`)
    const got = await send('GET', `/api/alice/tasks/${task.id}`)
    expect(got.headers.get('etag')).toBe(`"${task.version}"`)
    let last = task.version
    for (const [method, path, body] of [
      ['PATCH', `/api/alice/tasks/${task.id}`, { title: 'b' }],
      ['PUT', `/api/alice/tasks/${task.id}`, { title: 'c' }],
      ['PATCH', `/api/alice/tasks/${task.id}/complete`, undefined],
      ['POST', `/api/alice/tasks/${task.id}/move`, { parent_id: null }],
    ] as const) {
      const res = await send(method, path, {}, body)
      expect(res.status).toBe(200)
      const now = await json<Versioned>(res)
      expect(now.version).toBeGreaterThan(last)
      expect(res.headers.get('etag')).toBe(`"${now.version}"`)
      last = now.version
    }
    expect((await stored(task.id))?.version).toBe(last)
  })

  test("a subtask's change changes its parent's counts, and so its version", async () => {
    const parent = await createTask(api, alice, 'alice', { title: 'p' })
    const child = await createTask(api, alice, 'alice', { title: 'c', parent_id: parent.id })
    const before = (await stored(parent.id))?.version as number
    await send('PATCH', `/api/alice/tasks/${child.id}/complete`)
    const after = await json<Versioned & { completed_subtask_count: number }>(
      await send('GET', `/api/alice/tasks/${parent.id}`),
    )
    expect(after.completed_subtask_count).toBe(1)
    expect(after.version).toBeGreaterThan(before)
  })

  test('lists carry versions and ETags too', async () => {
    const list = await createList(api, alice, 'alice', { name: 'Work' })
    const got = await send('GET', `/api/alice/lists/${list.id}`)
    expect(got.headers.get('etag')).toBe(`"${list.version}"`)
    const renamed = await send('PATCH', `/api/alice/lists/${list.id}`, {}, { name: 'Job' })
    const body = await json<Versioned>(renamed)
    expect(body.version).toBeGreaterThan(list.version)
    expect(renamed.headers.get('etag')).toBe(`"${body.version}"`)
  })
})

describe('If-None-Match', () => {
  test('on one task or list: 304 without a body while unchanged, 200 once changed', async () => {
    const task = await createTask(api, alice, 'alice', { title: 'a' })
    const tag = `"${task.version}"`
    const same = await send('GET', `/api/alice/tasks/${task.id}`, { 'if-none-match': tag })
    expect(same.status).toBe(304)
    expect(await same.text()).toBe('')
    expect(same.headers.get('etag')).toBe(tag)
    expect((await send('GET', `/api/alice/tasks/${task.id}`, { 'if-none-match': `W/${tag}, "1"` })).status).toBe(304)
    await send('PATCH', `/api/alice/tasks/${task.id}`, {}, { title: 'b' })
    const changed = await send('GET', `/api/alice/tasks/${task.id}`, { 'if-none-match': tag })
    expect(changed.status).toBe(200)
    expect((await json<Versioned>(changed)).title).toBe('b')
    const list = await createList(api, alice, 'alice', { name: 'L' })
    expect((await send('GET', `/api/alice/lists/${list.id}`, { 'if-none-match': `"${list.version}"` })).status).toBe(
      304,
    )
  })

  test("another user's tag never reveals anything: bob's If-None-Match on alice's task is still a 403/404", async () => {
    const task = await createTask(api, alice, 'alice', { title: 'a' })
    await expectProblem(
      await send('GET', `/api/bob/tasks/${task.id}`, { 'if-none-match': `"${task.version}"` }, undefined, bob),
      404,
      'not_found',
    )
  })

  test('on the task list: 304 while nothing of the user changed; any change of theirs (a list too) makes it 200', async () => {
    await createTask(api, alice, 'alice', { title: 'a' })
    const first = await send('GET', '/api/alice/tasks?limit=10')
    const tag = first.headers.get('etag') as string
    expect(tag).toMatch(/^"\d+-[0-9a-z]+"$/)
    const again = await send('GET', '/api/alice/tasks?limit=10', { 'if-none-match': tag })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    // Another query has another tag.
    expect((await send('GET', '/api/alice/tasks?limit=11', { 'if-none-match': tag })).status).toBe(200)
    // Bob's changes are not alice's.
    await createTask(api, bob, 'bob', { title: 'b' })
    expect((await send('GET', '/api/alice/tasks?limit=10', { 'if-none-match': tag })).status).toBe(304)
    await createList(api, alice, 'alice', { name: 'New list' })
    const changed = await send('GET', '/api/alice/tasks?limit=10', { 'if-none-match': tag })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(tag)
  })

  test("the list's tag names the user's change counter, also on an empty page and a page in two parts", async () => {
    await createTask(api, alice, 'alice', { title: 'plain' })
    const counter = async () =>
      (await dbRows<{ seq: number }>(sql`select sync_seq as seq from users where id = 'alice'`))[0]?.seq
    const seq = await counter()
    const tagOf = async (path: string) => (await send('GET', path)).headers.get('etag')
    // Read with the page (a page in two parts: tasks with a due date, then those without).
    expect(await tagOf('/api/alice/tasks?limit=10')).toStartWith(`"${seq}-`)
    expect(await tagOf('/api/alice/tasks?sort=due_date&limit=10')).toStartWith(`"${seq}-`)
    // An empty page reads the counter on its own.
    const empty = await send('GET', '/api/alice/tasks?q=zebra')
    const emptyTag = empty.headers.get('etag') as string
    expect([emptyTag.startsWith(`"${seq}-`), await json(empty)]).toEqual([true, []])
    expect((await send('GET', '/api/alice/tasks?q=zebra', { 'if-none-match': emptyTag })).status).toBe(304)
    const zebra = await createTask(api, alice, 'alice', { title: 'zebra crossing' })
    const filled = await send('GET', '/api/alice/tasks?q=zebra', { 'if-none-match': emptyTag })
    expect(filled.status).toBe(200)
    expect(filled.headers.get('etag')).toStartWith(`"${await counter()}-`)
    expect((await json<{ id: number }[]>(filled)).map((t) => t.id)).toEqual([zebra.id])
  })

  test('a list filtered by overdue (it depends on the clock) carries no tag and is never a 304', async () => {
    const res = await send('GET', '/api/alice/tasks?overdue=true', { 'if-none-match': '*' })
    expect(res.status).toBe(200)
    expect(res.headers.get('etag')).toBeNull()
  })
})

describe('If-Match', () => {
  const writes = (id: number) =>
    [
      ['PATCH', `/api/alice/tasks/${id}`, { title: 'changed' }],
      ['PUT', `/api/alice/tasks/${id}`, { title: 'changed' }],
      ['PATCH', `/api/alice/tasks/${id}`, { title: 'changed', completed: true }],
      ['PATCH', `/api/alice/tasks/${id}/complete`, { completed: true }],
      ['POST', `/api/alice/tasks/${id}/move`, { parent_id: null }],
      ['DELETE', `/api/alice/tasks/${id}`, undefined],
    ] as const

  test('a stale version: 412 with the current task and its ETag, and nothing changes', async () => {
    const task = await createTask(api, alice, 'alice', { title: 'original' })
    const current = await json<Versioned>(await send('PATCH', `/api/alice/tasks/${task.id}`, {}, { title: 'newer' }))
    const before = await stored(task.id)
    for (const [method, path, body] of writes(task.id)) {
      const res = await send(method, path, { 'if-match': `"${task.version}"` }, body)
      const problem = await expectProblem(res, 412, 'precondition_failed')
      expect(problem.current).toEqual(current)
      expect(res.headers.get('etag')).toBe(`"${current.version}"`)
      expect(await stored(task.id)).toEqual(before)
    }
  })

  test('the current version (or *) lets each write through; weak or malformed tags never match', async () => {
    for (const [i] of writes(0).entries()) {
      const task = await createTask(api, alice, 'alice', { title: 'original' })
      const [method, path, body] = writes(task.id)[i] as typeof writes extends (id: number) => readonly (infer W)[]
        ? W
        : never
      for (const bad of [`W/"${task.version}"`, `${task.version}`, '"abc"', ''])
        await expectProblem(await send(method, path, { 'if-match': bad }, body), 412, 'precondition_failed')
      const ok = await send(method, path, { 'if-match': `"1", "${task.version}"` }, body)
      expect(ok.status).toBe(method === 'DELETE' ? 204 : 200)
      const star = await createTask(api, alice, 'alice', { title: 'star' })
      const [m2, p2, b2] = writes(star.id)[i] as typeof writes extends (id: number) => readonly (infer W)[] ? W : never
      expect((await send(m2, p2, { 'if-match': '*' }, b2)).status).toBe(m2 === 'DELETE' ? 204 : 200)
    }
  })

  test('If-Match on a task that is not there (or not yours) is a 404, not a 412', async () => {
    const task = await createTask(api, bob, 'bob', { title: "bob's" })
    await expectProblem(
      await send('PATCH', `/api/alice/tasks/${task.id}`, { 'if-match': '"1"' }, { title: 'x' }),
      404,
      'not_found',
    )
    await expectProblem(await send('DELETE', `/api/alice/tasks/${task.id}`, { 'if-match': '*' }), 404, 'not_found')
    expect((await stored(task.id))?.title).toBe("bob's")
  })

  test('parallel writes with the same If-Match: exactly one wins, the others get 412 with the winner', async () => {
    const task = await createTask(api, alice, 'alice', { title: 'start' })
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        send('PATCH', `/api/alice/tasks/${task.id}`, { 'if-match': `"${task.version}"` }, { title: `writer ${i}` }),
      ),
    )
    const ok = answers.filter((r) => r.status === 200)
    expect(ok).toHaveLength(1)
    const winner = await json<Versioned>(ok[0] as Response)
    for (const res of answers.filter((r) => r.status !== 200)) {
      const problem = await expectProblem(res, 412, 'precondition_failed')
      expect(problem.current).toMatchObject({ title: winner.title, version: winner.version })
    }
    expect((await stored(task.id))?.title).toBe(winner.title as string)
  })

  test('lists: rename, move and delete with a stale version are 412 and change nothing', async () => {
    const list = await createList(api, alice, 'alice', { name: 'Work' })
    await createList(api, alice, 'alice', { name: 'Other' })
    const renamed = await json<Versioned>(await send('PATCH', `/api/alice/lists/${list.id}`, {}, { name: 'Job' }))
    const stale = { 'if-match': `"${list.version}"` }
    for (const [method, path, body] of [
      ['PATCH', `/api/alice/lists/${list.id}`, { name: 'Nope' }],
      ['POST', `/api/alice/lists/${list.id}/move`, { before_id: list.id - 1 }],
      ['DELETE', `/api/alice/lists/${list.id}`, undefined],
    ] as const) {
      const problem = await expectProblem(await send(method, path, stale, body), 412, 'precondition_failed')
      expect(problem.current).toEqual(renamed)
    }
    const [row] = await dbRows<{ name: string; version: number }>(
      sql`select name, version from lists where id = ${list.id}`,
    )
    expect(row).toEqual({ name: 'Job', version: renamed.version })
    expect((await send('DELETE', `/api/alice/lists/${list.id}`, { 'if-match': `"${renamed.version}"` })).status).toBe(
      204,
    )
  })
})
