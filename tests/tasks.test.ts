import { beforeEach, describe, expect, test } from 'bun:test'
import { expectProblem, makeApp, type TestApp, tokenFor } from './support/app'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice', { email: 'Alice@Example.com', name: 'Alice' })
  bob = await tokenFor('bob')
})

async function create(body: unknown, token = alice, user = 'alice') {
  const res = await api.request('POST', `/api/${user}/tasks`, { token, body })
  expect(res.status).toBe(201)
  return res.json()
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe('create', () => {
  test('answers 201 with the task, a Location header, and stores it', async () => {
    const res = await api.request('POST', '/api/alice/tasks', { token: alice, body: { title: '  Buy milk  ' } })
    expect(res.status).toBe(201)
    const task = await res.json()
    expect(task).toEqual({
      id: expect.any(Number),
      user_id: 'alice',
      title: 'Buy milk',
      description: null,
      completed: false,
      created_at: expect.stringMatching(ISO_UTC),
      updated_at: task.created_at,
      priority: 'medium',
      tags: [],
      due_date: null,
      completed_at: null,
    })
    expect(res.headers.get('location')).toBe(`/api/alice/tasks/${task.id}`)
    const stored = await api.request('GET', `/api/alice/tasks/${task.id}`, { token: alice })
    expect(await stored.json()).toEqual(task)
  })

  test('takes description and completed', async () => {
    const task = await create({ title: 'Call mum', description: 'Sunday', completed: true })
    expect(task).toMatchObject({ title: 'Call mum', description: 'Sunday', completed: true })
  })

  test('counts title characters, not UTF-16 units: 255 emoji pass, 256 do not', async () => {
    const ok = await create({ title: '😀'.repeat(255) })
    expect([...ok.title].length).toBe(255)
    const res = await api.request('POST', '/api/alice/tasks', { token: alice, body: { title: '😀'.repeat(256) } })
    const problem = await expectProblem(res, 400, 'validation_failed')
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
    const list = await api.request('GET', '/api/alice/tasks', { token: alice })
    expect(await list.json()).toEqual([])
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
    expect((await api.request('GET', `/api/alice/tasks/${mine.id}`, { token: alice })).status).toBe(200)
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
    for (const id of [theirs.id, 999999, ...notIds]) {
      const res = await api.request('GET', `/api/alice/tasks/${id}`, { token: alice })
      const problem = await expectProblem(res, 404, 'not_found')
      expect(problem.detail).toBe('No task with that id.')
    }
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
    const res = await api.request('GET', '/api/alice/tasks', { token: alice })
    expect(res.status).toBe(200)
    const list = await res.json()
    expect(list.map((t: { id: number }) => t.id)).toEqual([a3.id, a2.id, a1.id])
    expect(res.headers.get('link')).toBeNull()
  })

  test('status filters pending and completed', async () => {
    const open = await create({ title: 'open' })
    const done = await create({ title: 'done', completed: true })
    const ids = async (query: string) =>
      (await (await api.request('GET', `/api/alice/tasks${query}`, { token: alice })).json()).map(
        (t: { id: number }) => t.id,
      )
    expect(await ids('?status=pending')).toEqual([open.id])
    expect(await ids('?status=completed')).toEqual([done.id])
    expect(await ids('?status=all')).toEqual([done.id, open.id])
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
    const seen: number[] = []
    let next: string | null = '/api/alice/tasks?limit=3'
    let pages = 0
    while (next) {
      const res = await api.request('GET', next, { token: alice })
      expect(res.status).toBe(200)
      const page = await res.json()
      expect(page.length).toBeLessThanOrEqual(3)
      seen.push(...page.map((t: { id: number }) => t.id))
      next = res.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1] ?? null
      pages++
    }
    expect(pages).toBe(3)
    expect(seen).toEqual(created.toReversed())
  })

  test('tasks created between page requests neither repeat nor shift the next page', async () => {
    for (let i = 0; i < 4; i++) await create({ title: `old${i}` })
    const first = await api.request('GET', '/api/alice/tasks?limit=2', { token: alice })
    const firstIds = (await first.json()).map((t: { id: number }) => t.id)
    await create({ title: 'newer' })
    const link = first.headers.get('link')?.match(/<([^>]+)>/)?.[1] as string
    const second = await (await api.request('GET', link, { token: alice })).json()
    expect(second.map((t: { title: string }) => t.title)).toEqual(['old1', 'old0'])
    expect(second.some((t: { id: number }) => firstIds.includes(t.id))).toBe(false)
  })

  test('keeps the status filter across pages and refuses a cursor replayed with another filter', async () => {
    for (let i = 0; i < 3; i++) await create({ title: `done${i}`, completed: true })
    await create({ title: 'open' })
    const first = await api.request('GET', '/api/alice/tasks?status=completed&limit=2', { token: alice })
    const link = first.headers.get('link')?.match(/<([^>]+)>/)?.[1] as string
    expect(link).toContain('status=completed')
    const second = await (await api.request('GET', link, { token: alice })).json()
    expect(second.map((t: { title: string }) => t.title)).toEqual(['done0'])
    const cursor = new URL(link, 'http://x').searchParams.get('cursor') as string
    const replay = await api.request('GET', `/api/alice/tasks?status=pending&cursor=${cursor}`, { token: alice })
    await expectProblem(replay, 400, 'validation_failed')
  })

  test('refuses a tampered cursor', async () => {
    for (let i = 0; i < 3; i++) await create({ title: `t${i}` })
    const first = await api.request('GET', '/api/alice/tasks?limit=1', { token: alice })
    const cursor = new URL(first.headers.get('link')?.match(/<([^>]+)>/)?.[1] as string, 'http://x').searchParams.get(
      'cursor',
    ) as string
    const [data, mac] = cursor.split('.') as [string, string]
    const payload = JSON.parse(Buffer.from(data, 'base64url').toString())
    payload.i += 1000
    const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`
    const res = await api.request('GET', `/api/alice/tasks?limit=1&cursor=${forged}`, { token: alice })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors?.[0]?.field).toBe('cursor')
  })

  test('default page size is 100, and the maximum of 500 is allowed', async () => {
    const values = Array.from({ length: 101 }, (_, i) => ({ title: `bulk ${i}` }))
    for (const body of values) await create(body)
    const res = await api.request('GET', '/api/alice/tasks', { token: alice })
    expect((await res.json()).length).toBe(100)
    expect(res.headers.get('link')).toContain('limit=100')
    const all = await api.request('GET', '/api/alice/tasks?limit=500', { token: alice })
    expect((await all.json()).length).toBe(101)
    expect(all.headers.get('link')).toBeNull()
  })
})

describe('update', () => {
  for (const method of ['PUT', 'PATCH']) {
    test(`${method} changes only the given fields; created_at stays, updated_at moves forward`, async () => {
      const before = await create({ title: 'draft', description: 'keep me' })
      const res = await api.request(method, `/api/alice/tasks/${before.id}`, {
        token: alice,
        body: { title: ' final ' },
      })
      expect(res.status).toBe(200)
      const after = await res.json()
      expect(after).toMatchObject({ id: before.id, title: 'final', description: 'keep me', completed: false })
      expect(after.created_at).toBe(before.created_at)
      expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.updated_at))
      const again = await (
        await api.request(method, `/api/alice/tasks/${before.id}`, {
          token: alice,
          body: { description: null, completed: true },
        })
      ).json()
      expect(again).toMatchObject({ title: 'final', description: null, completed: true })
      expect(Date.parse(again.updated_at)).toBeGreaterThan(Date.parse(after.updated_at))
    })

    test(`${method} refuses an empty body, invalid fields and read-only fields, changing nothing`, async () => {
      const task = await create({ title: 'stable' })
      for (const body of [{}, { title: '' }, { completed: 1 }, { id: 5 }, { user_id: 'bob' }, { created_at: 'x' }]) {
        const res = await api.request(method, `/api/alice/tasks/${task.id}`, { token: alice, body })
        await expectProblem(res, 400, 'validation_failed')
      }
      const now = await (await api.request('GET', `/api/alice/tasks/${task.id}`, { token: alice })).json()
      expect(now).toEqual(task)
    })

    test(`${method} of another user's task is a 404 and leaves it unchanged`, async () => {
      const theirs = await create({ title: 'bob task' }, bob, 'bob')
      const res = await api.request(method, `/api/alice/tasks/${theirs.id}`, {
        token: alice,
        body: { title: 'hacked' },
      })
      await expectProblem(res, 404, 'not_found')
      const still = await (await api.request('GET', `/api/bob/tasks/${theirs.id}`, { token: bob })).json()
      expect(still).toEqual(theirs)
    })
  }
})

describe('complete', () => {
  test('with no body or {} it toggles; with a boolean it sets', async () => {
    const task = await create({ title: 'flip' })
    const path = `/api/alice/tasks/${task.id}/complete`
    const toggled = await (await api.request('PATCH', path, { token: alice })).json()
    expect(toggled.completed).toBe(true)
    expect(Date.parse(toggled.updated_at)).toBeGreaterThan(Date.parse(task.updated_at))
    expect((await (await api.request('PATCH', path, { token: alice, body: {} })).json()).completed).toBe(false)
    expect(
      (await (await api.request('PATCH', path, { token: alice, body: { completed: true } })).json()).completed,
    ).toBe(true)
    expect(
      (await (await api.request('PATCH', path, { token: alice, body: { completed: true } })).json()).completed,
    ).toBe(true)
    const reopened = await (await api.request('PATCH', path, { token: alice, body: { completed: false } })).json()
    expect(reopened).toMatchObject({ completed: false, created_at: task.created_at, title: 'flip' })
  })

  test('refuses any other body', async () => {
    const task = await create({ title: 'x' })
    for (const body of [{ completed: 'true' }, { done: true }, '[]', 'true', { completed: true, title: 'y' }]) {
      const res = await api.request('PATCH', `/api/alice/tasks/${task.id}/complete`, { token: alice, body })
      await expectProblem(res, 400, 'validation_failed')
    }
    const now = await (await api.request('GET', `/api/alice/tasks/${task.id}`, { token: alice })).json()
    expect(now).toEqual(task)
  })

  test("of another user's task is a 404 and leaves it unchanged", async () => {
    const theirs = await create({ title: 'bob task' }, bob, 'bob')
    const res = await api.request('PATCH', `/api/alice/tasks/${theirs.id}/complete`, { token: alice })
    await expectProblem(res, 404, 'not_found')
    const still = await (await api.request('GET', `/api/bob/tasks/${theirs.id}`, { token: bob })).json()
    expect(still.completed).toBe(false)
  })
})

describe('delete', () => {
  test('answers 204 with no body, then the task is gone', async () => {
    const task = await create({ title: 'bin' })
    const res = await api.request('DELETE', `/api/alice/tasks/${task.id}`, { token: alice })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    await expectProblem(await api.request('GET', `/api/alice/tasks/${task.id}`, { token: alice }), 404, 'not_found')
    await expectProblem(await api.request('DELETE', `/api/alice/tasks/${task.id}`, { token: alice }), 404, 'not_found')
  })

  test("of another user's task is a 404 and it still exists", async () => {
    const theirs = await create({ title: 'bob task' }, bob, 'bob')
    await expectProblem(
      await api.request('DELETE', `/api/alice/tasks/${theirs.id}`, { token: alice }),
      404,
      'not_found',
    )
    expect((await api.request('GET', `/api/bob/tasks/${theirs.id}`, { token: bob })).status).toBe(200)
  })
})

describe('concurrency', () => {
  test('parallel creates all land, with distinct ids', async () => {
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        api.request('POST', '/api/alice/tasks', { token: alice, body: { title: `p${i}` } }),
      ),
    )
    expect(results.map((r) => r.status)).toEqual(Array(25).fill(201))
    const ids = new Set(await Promise.all(results.map(async (r) => (await r.json()).id)))
    expect(ids.size).toBe(25)
    const list = await (await api.request('GET', '/api/alice/tasks', { token: alice })).json()
    expect(list.length).toBe(25)
  })

  test('parallel toggles never lose an update', async () => {
    const task = await create({ title: 'race' })
    const toggles = 21
    const results = await Promise.all(
      Array.from({ length: toggles }, () =>
        api.request('PATCH', `/api/alice/tasks/${task.id}/complete`, { token: alice }),
      ),
    )
    expect(results.every((r) => r.status === 200)).toBe(true)
    const final = await (await api.request('GET', `/api/alice/tasks/${task.id}`, { token: alice })).json()
    // An odd number of flips from false must end at true; a lost update would break that.
    expect(final.completed).toBe(true)
    const states = await Promise.all(results.map(async (r) => (await r.json()).completed))
    expect(states.filter(Boolean).length).toBe((toggles + 1) / 2)
  })
})

describe('logging of task changes', () => {
  test('create, update and delete each log the user id and task id', async () => {
    const task = await create({ title: 'logged' })
    await api.request('PATCH', `/api/alice/tasks/${task.id}`, { token: alice, body: { title: 'l2' } })
    await api.request('DELETE', `/api/alice/tasks/${task.id}`, { token: alice })
    const events = api.logs.filter((l) => String(l.msg).startsWith('task '))
    expect(events.map((l) => [l.msg, l.user_id, l.task_id])).toEqual([
      ['task created', 'alice', task.id],
      ['task updated', 'alice', task.id],
      ['task deleted', 'alice', task.id],
    ])
  })
})
