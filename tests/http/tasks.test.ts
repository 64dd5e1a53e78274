import { beforeEach, describe, expect, test } from 'bun:test'
import { expectProblem, expectStatus, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { type NewTask, nextLink, type TaskOut, tasksOf, type UpdateTask } from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice', { email: 'Alice@Example.com', name: 'Alice' })
  bob = await tokenFor('bob')
})

// Alice's tasks (or another user's) through the typed client.
const tasks = (token = alice, user = 'alice') => tasksOf(api, token, user)
const task = (id: number | string, token = alice, user = 'alice') => tasks(token, user)({ id })

const create = async (body: NewTask, token = alice, user = 'alice') =>
  expectStatus(await tasks(token, user).post(body), 201)

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe('create', () => {
  test('answers 201 with the task, a Location header, and stores it', async () => {
    const res = await tasks().post({ title: '  Buy milk  ' })
    const created = expectStatus(res, 201)
    expect(created).toEqual({
      id: expect.any(Number),
      user_id: 'alice',
      title: 'Buy milk',
      description: null,
      completed: false,
      created_at: expect.stringMatching(ISO_UTC),
      updated_at: created.created_at,
      priority: 'medium',
      tags: [],
      due_date: null,
      completed_at: null,
      list_id: expect.any(Number),
      parent_id: null,
      position: expect.any(String),
      subtask_count: 0,
      completed_subtask_count: 0,
      recurrence: null,
      next_due: null,
      version: expect.any(Number),
      reminders: [],
    })
    expect(res.response.headers.get('location')).toBe(`/api/alice/tasks/${created.id}`)
    expect((await task(created.id).get()).data).toEqual(created)
  })

  test('takes description and completed', async () => {
    const task = await create({ title: 'Call mum', description: 'Sunday', completed: true })
    expect(task).toMatchObject({ title: 'Call mum', description: 'Sunday', completed: true })
  })

  test('counts title characters, not UTF-16 units: 255 emoji pass, 256 do not', async () => {
    const ok = await create({ title: '😀'.repeat(255) })
    expect([...ok.title].length).toBe(255)
    const problem = await expectProblem(await tasks().post({ title: '😀'.repeat(256) }), 400, 'validation_failed')
    expect(problem.errors).toEqual([{ field: 'title', message: 'must be 1 to 255 characters and not blank' }])
  })

  test.each([
    ['empty title', { title: '' }, 'title'],
    ['blank title', { title: '   \t ' }, 'title'],
    ['title of 256 characters', { title: 'x'.repeat(256) }, 'title'],
    ['missing title', { description: 'no title' }, 'title'],
    ['title of the wrong type', { title: 42 }, 'title'],
    ['description of 1001 characters', { title: 'a', description: 'd'.repeat(1001) }, 'description'],
    ['description of the wrong type', { title: 'a', description: 5 }, 'description'],
    ['completed as a string', { title: 'a', completed: 'yes' }, 'completed'],
    ['an unknown field', { title: 'a', priority_level: 3 }, 'priority_level'],
    ['a read-only id', { title: 'a', id: 7 }, 'id'],
    ['a read-only user_id', { title: 'a', user_id: 'bob' }, 'user_id'],
    ['a read-only created_at', { title: 'a', created_at: '2020-01-01T00:00:00Z' }, 'created_at'],
    ['a read-only updated_at', { title: 'a', updated_at: '2020-01-01T00:00:00Z' }, 'updated_at'],
    ['a NUL character in the title', { title: 'a\u0000b' }, 'title'],
    ['a NUL character in the description', { title: 'a', description: '\u0000' }, 'description'],
    ['a title of zero-width spaces', { title: '\u200b\u200b' }, 'title'],
    ['a title of a next-line character', { title: '\u0085' }, 'title'],
    ['a title of a byte-order mark and spaces', { title: ' \ufeff ' }, 'title'],
  ])('refuses %s with a 400 naming the field, and stores nothing', async (_, body, field) => {
    const res = await api.request('POST', '/api/alice/tasks', { token: alice, body })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors?.map((e) => e.field)).toContain(field)
    expect(problem.detail).toContain(field)
    expect((await tasks().get()).data).toEqual([])
  })

  test('read-only fields are called read-only, unknown ones unknown', async () => {
    const res = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'a', id: 1, colour: 'red' },
    })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors).toContainEqual({ field: 'id', message: 'is read-only and cannot be set' })
    expect(problem.errors).toContainEqual({ field: 'colour', message: 'is not a known field' })
  })

  test('trims every kind of space from the title ends, not just ASCII', async () => {
    const task = await create({ title: '\u200b\u00a0Buy milk\u0085\u3000' })
    expect(task.title).toBe('Buy milk')
  })

  test('accepts the limits exactly: 1 and 255 title characters, 1000 description characters', async () => {
    await create({ title: 'x' })
    await create({ title: 'y'.repeat(255), description: 'd'.repeat(1000) })
    await create({ title: 'z', description: null })
  })

  test('refuses a body that is not an object, or no body at all', async () => {
    for (const body of ['[]', '"title"', 'null', '42']) {
      const res = await api.request('POST', '/api/alice/tasks', { token: alice, body })
      await expectProblem(res, 400, 'validation_failed')
    }
    const none = await api.request('POST', '/api/alice/tasks', { token: alice })
    const problem = await expectProblem(none, 400, 'validation_failed')
    expect(problem.errors?.[0]?.field).toBe('body')
  })

  test('does not echo submitted values in errors', async () => {
    const res = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'a', secret_field: 'hunter2-do-not-echo' },
    })
    expect(await res.text()).not.toContain('hunter2-do-not-echo')
  })
})

describe('read', () => {
  test('get one answers the task; unknown, foreign and malformed ids answer 404', async () => {
    const mine = await create({ title: 'mine' })
    const theirs = await create({ title: 'theirs' }, bob, 'bob')
    expect((await task(mine.id).get()).status).toBe(200)
    const notIds = [
      'abc',
      '0',
      '-1',
      '1.5',
      '99999999999',
      '1e3',
      '0x1',
      '+1',
      '1.0',
      '01',
      '1e0',
      '%201',
      '2147483648',
    ]
    // Path parameters are strings to the client: the malformed ones are sent as they are.
    for (const id of [theirs.id, 999999, ...notIds]) {
      const problem = await expectProblem(await task(id).get(), 404, 'not_found')
      expect(problem.detail).toBe('No task with that id.')
    }
  })

  test('an id past what the column can hold is a 404 on every task route, never a database error', async () => {
    const mine = await create({ title: 'mine' })
    for (const id of ['2147483648', '4294967296', '9999999999']) {
      const one = task(id)
      for (const call of [
        () => one.get(),
        () => one.put({ title: 'x' }),
        () => one.patch({ title: 'x' }),
        () => one.delete(),
        () => one.complete.patch(),
      ]) {
        const problem = await expectProblem(await call(), 404, 'not_found')
        expect(problem.detail).toBe('No task with that id.')
      }
    }
    const list = expectStatus(await tasks().get(), 200)
    expect(list.map((t) => [t.title, t.completed])).toEqual([[mine.title, false]])
  })

  test('a malformed id without a token is still a 401 first', async () => {
    await expectProblem(await api.request('GET', '/api/alice/tasks/0x1'), 401, 'unauthorized')
  })

  test('repeated single-valued query parameters are a 400, not a silent pick', async () => {
    for (const query of ['status=completed&status=pending', 'limit=1&limit=2']) {
      const res = await api.request('GET', `/api/alice/tasks?${query}`, { token: alice })
      const problem = await expectProblem(res, 400, 'validation_failed')
      expect(problem.errors?.[0]?.message).toBe('is given more than once')
    }
  })

  test("the list holds only the caller's tasks, newest first", async () => {
    const a1 = await create({ title: 'a1' })
    await create({ title: 'b1' }, bob, 'bob')
    const a2 = await create({ title: 'a2' })
    const a3 = await create({ title: 'a3' })
    const res = await tasks().get()
    const list = expectStatus(res, 200)
    expect(list.map((t) => t.id)).toEqual([a3.id, a2.id, a1.id])
    expect(res.response.headers.get('link')).toBeNull()
  })

  test('status filters pending and completed', async () => {
    const open = await create({ title: 'open' })
    const done = await create({ title: 'done', completed: true })
    const ids = async (status: 'pending' | 'completed' | 'all') =>
      (await tasks().get({ query: { status } })).data?.map((t) => t.id)
    expect(await ids('pending')).toEqual([open.id])
    expect(await ids('completed')).toEqual([done.id])
    expect(await ids('all')).toEqual([done.id, open.id])
  })

  test.each([
    ['status=done', 'status'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['cursor=garbage', 'cursor'],
    ['sort=size', 'sort'],
    ['bogus=1', 'bogus'],
  ])('refuses the query %s with a 400 naming %s', async (query, field) => {
    const res = await api.request('GET', `/api/alice/tasks?${query}`, { token: alice })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors?.map((e) => e.field)).toEqual([field])
  })
})

describe('pagination', () => {
  test('pages through every task exactly once, newest first, following Link rel="next"', async () => {
    const created: number[] = []
    for (let i = 0; i < 7; i++) created.push((await create({ title: `t${i}` })).id)
    // The first page through the client; each next one at the link, as the server wrote it.
    const first = await tasks().get({ query: { limit: 3 } })
    const pages = [expectStatus(first, 200)]
    let next = nextLink(first.response)
    while (next) {
      const res = await api.request('GET', next, { token: alice })
      expect(res.status).toBe(200)
      pages.push(await json<TaskOut[]>(res))
      next = nextLink(res)
    }
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(3)
    expect(pages.length).toBe(3)
    expect(pages.flat().map((t) => t.id)).toEqual(created.toReversed())
  })

  test('tasks created between page requests neither repeat nor shift the next page', async () => {
    for (let i = 0; i < 4; i++) await create({ title: `old${i}` })
    const first = await tasks().get({ query: { limit: 2 } })
    const firstIds = expectStatus(first, 200).map((t) => t.id)
    await create({ title: 'newer' })
    const link = first.response.headers.get('link')?.match(/<([^>]+)>/)?.[1] as string
    const second = await json<TaskOut[]>(await api.request('GET', link, { token: alice }))
    expect(second.map((t) => t.title)).toEqual(['old1', 'old0'])
    expect(second.some((t) => firstIds.includes(t.id))).toBe(false)
  })

  test('keeps the status filter across pages and refuses a cursor replayed with another filter', async () => {
    for (let i = 0; i < 3; i++) await create({ title: `done${i}`, completed: true })
    await create({ title: 'open' })
    const first = await tasks().get({ query: { status: 'completed', limit: 2 } })
    const link = first.response.headers.get('link')?.match(/<([^>]+)>/)?.[1] as string
    expect(link).toContain('status=completed')
    const second = await json<TaskOut[]>(await api.request('GET', link, { token: alice }))
    expect(second.map((t) => t.title)).toEqual(['done0'])
    const cursor = new URL(link, 'http://x').searchParams.get('cursor') as string
    const replay = await tasks().get({ query: { status: 'pending', cursor } })
    await expectProblem(replay, 400, 'validation_failed')
  })

  test('refuses a tampered cursor', async () => {
    for (let i = 0; i < 3; i++) await create({ title: `t${i}` })
    const first = await tasks().get({ query: { limit: 1 } })
    const cursor = new URL(nextLink(first.response) as string, 'http://x').searchParams.get('cursor') as string
    const [data, mac] = cursor.split('.') as [string, string]
    const payload = JSON.parse(Buffer.from(data, 'base64url').toString())
    payload.i += 1000
    const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`
    const res = await tasks().get({ query: { limit: 1, cursor: forged } })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors?.[0]?.field).toBe('cursor')
  })

  test('default page size is 100, and the maximum of 500 is allowed', async () => {
    const values = Array.from({ length: 101 }, (_, i) => ({ title: `bulk ${i}` }))
    for (const body of values) await create(body)
    const res = await tasks().get()
    expect(res.data?.length).toBe(100)
    expect(res.response.headers.get('link')).toContain('limit=100')
    const all = await tasks().get({ query: { limit: 500 } })
    expect(all.data?.length).toBe(101)
    expect(all.response.headers.get('link')).toBeNull()
  })
})

describe('update', () => {
  for (const method of ['PUT', 'PATCH'] as const) {
    const update = (id: number, body: UpdateTask, token = alice, user = 'alice') =>
      method === 'PUT' ? task(id, token, user).put(body) : task(id, token, user).patch(body)

    test(`${method} changes only the given fields; created_at stays, updated_at moves forward`, async () => {
      const before = await create({ title: 'draft', description: 'keep me' })
      const res = await update(before.id, { title: ' final ' })
      expect(res.status).toBe(200)
      const after = expectStatus(res, 200)
      expect(after).toMatchObject({ id: before.id, title: 'final', description: 'keep me', completed: false })
      expect(after.created_at).toBe(before.created_at)
      expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.updated_at))
      const again = expectStatus(await update(before.id, { description: null, completed: true }), 200)
      expect(again).toMatchObject({ title: 'final', description: null, completed: true })
      expect(Date.parse(again.updated_at)).toBeGreaterThan(Date.parse(after.updated_at))
    })

    test(`${method} refuses an empty body, invalid fields and read-only fields, changing nothing`, async () => {
      const stable = await create({ title: 'stable' })
      for (const body of [{}, { title: '' }, { completed: 1 }, { id: 5 }, { user_id: 'bob' }, { created_at: 'x' }]) {
        const res = await api.request(method, `/api/alice/tasks/${stable.id}`, { token: alice, body })
        await expectProblem(res, 400, 'validation_failed')
      }
      expect((await task(stable.id).get()).data).toEqual(stable)
    })

    test(`${method} of another user's task is a 404 and leaves it unchanged`, async () => {
      const theirs = await create({ title: 'bob task' }, bob, 'bob')
      await expectProblem(await update(theirs.id, { title: 'hacked' }), 404, 'not_found')
      expect((await task(theirs.id, bob, 'bob').get()).data).toEqual(theirs)
    })
  }
})

describe('complete', () => {
  test('with no body or {} it toggles; with a boolean it sets', async () => {
    const flip = await create({ title: 'flip' })
    const complete = task(flip.id).complete
    const toggled = expectStatus(await complete.patch(), 200)
    expect(toggled.completed).toBe(true)
    expect(Date.parse(toggled.updated_at)).toBeGreaterThan(Date.parse(flip.updated_at))
    expect((await complete.patch({})).data?.completed).toBe(false)
    expect((await complete.patch({ completed: true })).data?.completed).toBe(true)
    expect((await complete.patch({ completed: true })).data?.completed).toBe(true)
    const reopened = (await complete.patch({ completed: false })).data
    expect(reopened).toMatchObject({ completed: false, created_at: flip.created_at, title: 'flip' })
  })

  test('refuses any other body', async () => {
    const kept = await create({ title: 'x' })
    for (const body of [{ completed: 'true' }, { done: true }, '[]', 'true', { completed: true, title: 'y' }]) {
      const res = await api.request('PATCH', `/api/alice/tasks/${kept.id}/complete`, { token: alice, body })
      await expectProblem(res, 400, 'validation_failed')
    }
    expect((await task(kept.id).get()).data).toEqual(kept)
  })

  test("of another user's task is a 404 and leaves it unchanged", async () => {
    const theirs = await create({ title: 'bob task' }, bob, 'bob')
    await expectProblem(await task(theirs.id).complete.patch(), 404, 'not_found')
    expect((await task(theirs.id, bob, 'bob').get()).data?.completed).toBe(false)
  })
})

describe('delete', () => {
  test('answers 204 with no body, then the task is gone', async () => {
    const bin = task((await create({ title: 'bin' })).id)
    const res = await bin.delete()
    expect(res.status).toBe(204)
    // The client hands an empty body on as ''; a body with anything in it would not be ''.
    expect(res.data as unknown).toBe('')
    await expectProblem(await bin.get(), 404, 'not_found')
    await expectProblem(await bin.delete(), 404, 'not_found')
  })

  test("of another user's task is a 404 and it still exists", async () => {
    const theirs = await create({ title: 'bob task' }, bob, 'bob')
    await expectProblem(await task(theirs.id).delete(), 404, 'not_found')
    expect((await task(theirs.id, bob, 'bob').get()).status).toBe(200)
  })
})

describe('concurrency', () => {
  test('parallel creates all land, with distinct ids', async () => {
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => tasks().post({ title: `p${i}` })))
    expect(results.map((r) => r.status)).toEqual(Array(25).fill(201))
    const ids = new Set(results.map((r) => r.data?.id))
    expect(ids.size).toBe(25)
    expect((await tasks().get()).data?.length).toBe(25)
  })

  test('parallel toggles never lose an update', async () => {
    const race = task((await create({ title: 'race' })).id)
    const toggles = 21
    const results = await Promise.all(Array.from({ length: toggles }, () => race.complete.patch()))
    expect(results.every((r) => r.status === 200)).toBe(true)
    // An odd number of flips from false must end at true; a lost update would break that.
    expect((await race.get()).data?.completed).toBe(true)
    const states = results.map((r) => r.data?.completed)
    expect(states.filter(Boolean).length).toBe((toggles + 1) / 2)
  })
})

describe('logging of task changes', () => {
  test('create, update and delete each log the user id and task id', async () => {
    const logged = await create({ title: 'logged' })
    await task(logged.id).patch({ title: 'l2' })
    await task(logged.id).delete()
    const events = (await api.logs()).filter((l) => String(l.msg).startsWith('task '))
    expect(events.map((l) => [l.msg, l.user_id, l.task_id])).toEqual([
      ['task created', 'alice', logged.id],
      ['task updated', 'alice', logged.id],
      ['task deleted', 'alice', logged.id],
    ])
  })
})
