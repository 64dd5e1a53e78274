import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { openPostgres } from '../src/db/client'
import { BASE, expectProblem, makeApp, type TestApp, tokenFor } from './support/app'

let api: TestApp
let alice: string
beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

const listTitles = async () =>
  (await (await api.request('GET', '/api/alice/tasks', { token: alice })).json()).map((t: { title: string }) => t.title)

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
    const res = await api.app.handle(
      new Request(`${BASE}/api/alice/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}` },
        body: new Blob([JSON.stringify({ title: 'a' })]),
      }),
    )
    await expectProblem(res, 415, 'unsupported_media_type')
  })

  test('application/json with a charset and +json types are accepted', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/merge-patch+json']) {
      const res = await api.request('POST', '/api/alice/tasks', {
        token: alice,
        body: { title: type },
        headers: { 'content-type': type },
      })
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
    const server = api.app.listen({ port: 0, hostname: '127.0.0.1' }).server
    try {
      const res = await fetch(`http://127.0.0.1:${server?.port}/api/alice/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: big,
      })
      await expectProblem(res, 413, 'payload_too_large')
    } finally {
      await api.app.stop(true)
    }
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

describe('404 unknown routes', () => {
  test.each([
    ['GET', '/nope'],
    ['GET', '/api/alice'],
    ['POST', '/api/alice/tasks/1'],
    ['GET', '/api/alice/tasks/1/complete'],
  ])('%s %s answers problem+json', async (method, path) => {
    await expectProblem(await api.request(method, path, { token: alice }), 404, 'not_found')
  })
})

describe('409 unique conflicts', () => {
  test('registering an email that is taken answers 409 without naming database objects', async () => {
    const body = { email: 'dup@example.com', password: 'long enough pw', name: 'Dup' }
    expect((await api.request('POST', '/api/auth/register', { body })).status).toBe(201)
    const problem = await expectProblem(await api.request('POST', '/api/auth/register', { body }), 409, 'conflict')
    expect(problem.detail).not.toContain('users_')
  })
})

describe('values Postgres cannot store', () => {
  test('a NUL in a login email is a 4xx, never a 500', async () => {
    const res = await api.request('POST', '/api/auth/login', { body: { email: 'a\u0000@b.co', password: 'whatever1' } })
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
  })
})

describe('429 too many requests', () => {
  test('past the per-user limit: 429 with Retry-After; other users are not affected', async () => {
    const limited = await makeApp({ config: { rateLimitPerMinute: 3 } })
    for (let i = 0; i < 3; i++)
      expect((await limited.request('GET', '/api/alice/tasks', { token: alice })).status).toBe(200)
    const res = await limited.request('GET', '/api/alice/tasks', { token: alice })
    await expectProblem(res, 429, 'rate_limited')
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    const bob = await tokenFor('bob')
    expect((await limited.request('GET', '/api/bob/tasks', { token: bob })).status).toBe(200)
  })
})

describe('503 database unreachable', async () => {
  // A real postgres.js client pointed at a port where nothing listens.
  const nowhere = await openPostgres('postgres://postgres@127.0.0.1:1/none', { connectTimeout: 2 })
  afterAll(() => nowhere.close())

  test('task routes answer 503 with Retry-After, fast', async () => {
    const down = await makeApp({ database: nowhere })
    const started = performance.now()
    for (const [method, path, body] of [
      ['GET', '/api/alice/tasks'],
      ['POST', '/api/alice/tasks', { title: 'x' }],
      ['PATCH', '/api/alice/tasks/1/complete'],
    ] as const) {
      const res = await down.request(method, path, { token: alice, body })
      const problem = await expectProblem(res, 503, 'service_unavailable')
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(problem.detail).not.toContain('127.0.0.1')
    }
    expect(performance.now() - started).toBeLessThan(5000)
  })

  test('/ready answers 503 while /health still answers 200', async () => {
    const down = await makeApp({ database: nowhere })
    await expectProblem(await down.request('GET', '/ready'), 503, 'service_unavailable')
    expect((await down.request('GET', '/health')).status).toBe(200)
  })
})

describe('500 unexpected errors', () => {
  test('answer a generic problem; the full error goes to the log only', async () => {
    const broken = await makeApp({
      deps: {
        tokenVerifier: {
          verify: () => {
            throw new Error('kaboom: internal detail 1234')
          },
        },
      },
    })
    const res = await broken.request('GET', '/api/alice/tasks', { token: alice })
    const problem = await expectProblem(res, 500, 'internal_error')
    expect(JSON.stringify(problem)).not.toContain('kaboom')
    const logged = broken.logs.find((l) => l.msg === 'unhandled error')
    expect(JSON.stringify(logged)).toContain('kaboom: internal detail 1234')
  })
})
