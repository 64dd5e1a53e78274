import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, makeApp, type TestApp, tokenFor } from '../support/app'
import { dbRows } from '../support/lists'
import { describeRoute, routeTable } from '../support/routes'
import { createTask } from '../support/tasks'

let api: TestApp
let alice: string
beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

const tasks = () => api.as(alice).api({ user_id: 'alice' }).tasks
const listTitles = async () => (await tasks().get()).data?.map((t) => t.title)

describe('400 malformed JSON', () => {
  test.each(['{"title": "a"', '{title: "a"}', "{'title':'a'}", '{"title":"a"}x'])('%s', async (body) => {
    const res = await api.request('POST', '/api/alice/tasks', { token: alice, body })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.detail).toBe('The request body is not valid JSON.')
    expect(await listTitles()).toEqual([])
  })
})

describe('415 non-JSON body', () => {
  test.each([
    ['text/plain', 'title=a'],
    ['application/x-www-form-urlencoded', 'title=a'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="title"\r\n\r\na\r\n--x--'],
  ])('%s', async (type, body) => {
    const res = await api.request('POST', '/api/alice/tasks', { token: alice, body, headers: { 'content-type': type } })
    await expectProblem(res, 415, 'unsupported_media_type')
    expect(await listTitles()).toEqual([])
  })

  test('a JSON body without a Content-Type is refused too', async () => {
    const res = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: new Blob([JSON.stringify({ title: 'a' })]),
    })
    await expectProblem(res, 415, 'unsupported_media_type')
  })

  test('a compressed body (Content-Encoding) is refused as such, not as text that is not UTF-8', async () => {
    for (const coding of ['gzip', 'deflate', 'br']) {
      const body = new Blob([Bun.gzipSync(Buffer.from(JSON.stringify({ title: 'zipped' })))])
      const res = await api.request('POST', '/api/alice/tasks', {
        token: alice,
        body,
        headers: { 'content-type': 'application/json', 'content-encoding': coding },
      })
      const problem = await expectProblem(res, 415, 'unsupported_media_type')
      expect(problem.detail).toContain('Content-Encoding')
    }
    const plain = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'identity' },
      headers: { 'content-encoding': 'identity' },
    })
    expect(plain.status).toBe(201)
    expect(await listTitles()).toEqual(['identity'])
  })

  test('application/json with a charset and +json types are accepted', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/merge-patch+json']) {
      const res = await tasks().post({ title: type }, { headers: { 'content-type': type } })
      expect(res.status).toBe(201)
    }
  })
})

describe('413 body over the limit', () => {
  const big = JSON.stringify({ title: 'big', description: 'x'.repeat(70 * 1024) })

  test('streamed without Content-Length', async () => {
    const res = await api.request('POST', '/api/alice/tasks', { token: alice, body: big })
    const problem = await expectProblem(res, 413, 'payload_too_large')
    expect(problem.detail).toContain('65536')
    expect(await listTitles()).toEqual([])
  })

  test('announced by Content-Length, over a real socket', async () => {
    const res = await fetch(`${await api.origin()}/api/alice/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: big,
    })
    await expectProblem(res, 413, 'payload_too_large')
    expect(await listTitles()).toEqual([])
  })

  test('a body just under the limit is read and validated normally', async () => {
    const body = JSON.stringify({ title: 'big', description: 'x'.repeat(60 * 1024) })
    const problem = await expectProblem(
      await api.request('POST', '/api/alice/tasks', { token: alice, body }),
      400,
      'validation_failed',
    )
    expect(problem.errors?.[0]?.field).toBe('description')
  })
})

const bodiless = (await routeTable()).filter((r) => !r.body && r.method !== 'GET' && r.method !== 'HEAD')

describe('a route that takes no body', () => {
  // DELETE, POST /api/auth/logout-all, POST /api/auth/stream-ticket and the acknowledgement of a
  // reminder document no body and none of the statuses a body can cause (400, 413, 415): whatever
  // is sent along is not read, as on GET.
  const ignored: [string, string, Record<string, string>][] = [
    ['malformed JSON', '{"title": ', { 'content-type': 'application/json' }],
    ['not JSON', 'title=x', { 'content-type': 'text/plain' }],
    ['nested too deep', `${'['.repeat(40)}${']'.repeat(40)}`, { 'content-type': 'application/json' }],
    ['over the limit', JSON.stringify({ x: 'x'.repeat(70 * 1024) }), { 'content-type': 'application/json' }],
  ]

  test('exists (DELETE of a task or a list, logout-all, stream-ticket)', () => {
    expect(bodiless.map(describeRoute).sort()).toEqual([
      'DELETE /api/:user_id/calendar/key',
      'DELETE /api/:user_id/lists/:list_id',
      'DELETE /api/:user_id/tasks/:id',
      'DELETE /api/:user_id/trash',
      'DELETE /api/:user_id/trash/:id',
      'POST /api/:user_id/calendar/key',
      'POST /api/:user_id/reminders/:id/ack',
      'POST /api/:user_id/trash/:id/restore',
      'POST /api/auth/logout-all',
      'POST /api/auth/stream-ticket',
    ])
  })

  /** A reminder of a new task titled `title`, fired (as the scheduler marks one). */
  const firedReminder = async (title: string) => {
    const at = new Date(Date.now() + 3600_000).toISOString()
    const [reminder] = (await createTask(api, alice, 'alice', { title, reminders: [{ at }] })).reminders
    const [row] = await dbRows<{ id: number }>(
      sql`update reminders set fired_at = now() where id = ${reminder?.id} returning id`,
    )
    return row?.id as number
  }

  const listNames = async () =>
    ((await (await api.request('GET', '/api/alice/lists', { token: alice })).json()) as { name: string }[]).map(
      (l) => l.name,
    )

  test.each(bodiless.map((r) => [describeRoute(r), r] as const))(
    '%s ignores any body sent with it',
    async (_, route) => {
      const onList = route.path.includes(':list_id')
      // Trash routes act on a deleted task; a restore answers with it.
      const onTrash = route.path.includes('/trash')
      // The acknowledgement acts on a reminder that fired, and answers with it.
      const onReminder = route.path.includes('/reminders/')
      const success = route.path.endsWith('/restore') || onReminder ? 200 : 204
      for (const [name, body, headers] of ignored) {
        const id = onList
          ? (
              (await (await api.request('POST', '/api/alice/lists', { token: alice, body: { name } })).json()) as {
                id: number
              }
            ).id
          : onReminder
            ? await firedReminder(name)
            : (await createTask(api, alice, 'alice', { title: name })).id
        if (onTrash) expect((await api.request('DELETE', `/api/alice/tasks/${id}`, { token: alice })).status).toBe(204)
        const res = await api.request(route.method, route.pathFor('alice', id), { token: alice, body, headers })
        // The ticket route answers a ticket (201); a restore the task (200); the others nothing (204).
        const expected = '201' in route.responses ? 201 : success
        expect(`${name}: ${res.status}`).toBe(`${name}: ${expected}`)
        if (expected === 204) expect(await res.text()).toBe('')
      }
      if (onList) expect(await listNames()).toEqual(['Inbox'])
      else {
        // The calendar key's DELETE leaves the tasks alone.
        const deletesTasks = route.method === 'DELETE' && !route.path.endsWith('/calendar/key')
        expect(await listTitles()).toEqual(deletesTasks ? [] : ignored.map(([name]) => name).reverse())
      }
    },
  )
})

describe('404 unknown routes', () => {
  test.each([
    ['GET', '/nope'],
    ['GET', '/api/alice'],
    ['GET', '/api/alice/tasks/1/done'],
  ])('%s %s answers problem+json', async (method, path) => {
    await expectProblem(await api.request(method, path, { token: alice }), 404, 'not_found')
  })

  // A known path with a method it lacks is a 405 (tests/http/methods.test.ts).
  test.each([
    ['POST', '/api/alice/tasks/1'],
    ['GET', '/api/alice/tasks/1/complete'],
  ])('%s %s (a path that exists) answers 405 instead', async (method, path) => {
    await expectProblem(await api.request(method, path, { token: alice }), 405, 'method_not_allowed')
  })
})

describe('409 unique conflicts', () => {
  test('registering an email that is taken answers 409 without naming database objects', async () => {
    const body = { email: 'dup@example.com', password: 'long enough pw', name: 'Dup' }
    expect((await api.client.api.auth.register.post(body)).status).toBe(201)
    const problem = await expectProblem(await api.client.api.auth.register.post(body), 409, 'conflict')
    expect(problem.detail).not.toContain('users_')
  })
})

describe('values Postgres cannot store', () => {
  test('a NUL in a login email is a 4xx, never a 500', async () => {
    const res = await api.client.api.auth.login.post({ email: 'a\u0000@b.co', password: 'whatever1' })
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
  })
})

describe('429 too many requests', () => {
  test('past the per-user limit: 429 with Retry-After; other users are not affected', async () => {
    const limited = await makeApp({ env: { RATE_LIMIT_PER_MINUTE: '3' } })
    const list = (token: string, user: string) => limited.as(token).api({ user_id: user }).tasks.get()
    for (let i = 0; i < 3; i++) expect((await list(alice, 'alice')).status).toBe(200)
    const res = await list(alice, 'alice')
    await expectProblem(res, 429, 'rate_limited')
    expect(Number(res.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await list(await tokenFor('bob'), 'bob')).status).toBe(200)
  })
})
