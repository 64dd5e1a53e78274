import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, expectStatus, makeApp, TEST_SECRET, type TestApp, tokenFor } from '../support/app'
import { sharedDatabase, TEST_POOLER_MODE } from '../support/database'

let api: TestApp
beforeEach(async () => {
  api = await makeApp()
})

describe('health and readiness', () => {
  test('/health answers 200 without auth', async () => {
    const res = await api.client.health.get()
    expect(res.status).toBe(200)
    expect(res.data).toEqual({ status: 'ok' })
  })

  test('/ready answers 200 on a migrated database, 503 when a migration is missing', async () => {
    expect((await api.client.ready.get()).data).toEqual({ status: 'ready', pooler: TEST_POOLER_MODE })
    const { db } = (await sharedDatabase()).database
    await db.execute(sql`update drizzle.__drizzle_migrations set created_at = created_at - 1000000000`)
    try {
      await expectProblem(await api.client.ready.get(), 503, 'service_unavailable')
    } finally {
      await db.execute(sql`update drizzle.__drizzle_migrations set created_at = created_at + 1000000000`)
    }
    expect((await api.client.ready.get()).status).toBe(200)
  })
})

describe('X-Request-Id', () => {
  test('is generated when absent, echoed when given, replaced when malformed', async () => {
    const requestIdOf = async (sent?: string) =>
      (await api.client.health.get(sent ? { headers: { 'x-request-id': sent } } : {})).response.headers.get(
        'x-request-id',
      )
    expect(await requestIdOf()).toMatch(/^[0-9a-f-]{36}$/)
    expect(await requestIdOf('abc-123.x:y')).toBe('abc-123.x:y')
    for (const bad of ['has spaces', 'x'.repeat(129), 'inject"quote'])
      expect(await requestIdOf(bad)).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('is on error responses too', async () => {
    const res = await api.client.api({ user_id: 'alice' }).tasks.get({ headers: { 'x-request-id': 'req-401' } })
    expect(res.status).toBe(401)
    expect(res.response.headers.get('x-request-id')).toBe('req-401')
  })
})

describe('request logs', () => {
  test('one JSON line per request with method, route, status, duration and request id', async () => {
    const token = await tokenFor('alice')
    await api
      .as(token)
      .api({ user_id: 'alice' })
      .tasks.post({ title: 'a' }, { headers: { 'x-request-id': 'r1' } })
    await api.client.api({ user_id: 'alice' }).tasks.get({ headers: { 'x-request-id': 'r2' } })
    // Not a route of the contract: sent as it is.
    await api.request('GET', '/nowhere', { headers: { 'x-request-id': 'r3' } })
    await Bun.sleep(20) // the log line is written after the response is handed back
    const requests = (await api.logs()).filter((l) => l.msg === 'request')
    expect(requests).toHaveLength(3)
    expect(requests[0]).toMatchObject({ request_id: 'r1', method: 'POST', route: '/api/:user_id/tasks', status: 201 })
    expect(requests[1]).toMatchObject({ request_id: 'r2', method: 'GET', status: 401 })
    expect(requests[2]).toMatchObject({ request_id: 'r3', status: 404, path: '/nowhere' })
    for (const line of requests) expect(typeof line.duration_ms).toBe('number')
  })

  test('task and account events carry the request id of the request that caused them', async () => {
    const id = (requestId: string) => ({ headers: { 'x-request-id': requestId } })
    const body = { email: 'ids@example.com', password: 'correct horse battery', name: 'Ids' }
    const { token, user } = expectStatus(await api.client.api.auth.register.post(body, id('reg')), 201)
    await api.client.api.auth.login.post({ email: body.email, password: body.password }, id('in'))
    const signedIn = api.as(token)
    const tasks = signedIn.api({ user_id: user.id }).tasks
    const task = expectStatus(await tasks.post({ title: 't' }, id('c')), 201)
    await tasks({ id: task.id }).patch({ title: 'u' }, id('u'))
    await tasks({ id: task.id }).complete.patch(undefined, id('done'))
    await tasks({ id: task.id }).delete(undefined, id('d'))
    await signedIn.api.auth.password.post(
      { current_password: body.password, new_password: 'another long password' },
      id('pw'),
    )
    const eventsOf = (logs: Record<string, unknown>[]) => logs.filter((l) => l.msg !== 'request' && l.user_id)
    const events = eventsOf(await api.logs())
    expect(events.map((l) => [l.msg, l.request_id, l.user_id])).toEqual([
      ['user registered', 'reg', user.id],
      ['user signed in', 'in', user.id],
      ['task created', 'c', user.id],
      ['task updated', 'u', user.id],
      ['task updated', 'done', user.id],
      ['task deleted', 'd', user.id],
      ['password changed', 'pw', user.id],
    ])
  })

  test('a failed query is logged without its parameter values', async () => {
    const { createLogger } = await import('../../src/logger')
    const lines: string[] = []
    const logger = createLogger('debug', (l) => lines.push(l))
    const { db } = (await sharedDatabase()).database
    const { users } = await import('../../src/db/schema')
    // A name with a newline must not end the redaction early.
    const row = { id: 'same-id', email: 'secret-hash-value@example.com', name: 'Bob\nSmith secret-name' }
    await db.insert(users).values(row)
    const error = await db
      .insert(users)
      .values(row)
      .catch((e: unknown) => e)
    logger.error('unhandled error', { err: error })
    expect(lines.join('')).toContain('Failed query')
    expect(lines.join('')).not.toContain('secret-hash-value')
    expect(lines.join('')).not.toContain('secret-name')
  })

  test('never contain a token, the secret or an Authorization header', async () => {
    const token = await tokenFor('alice')
    await api.as(token).api({ user_id: 'alice' }).tasks.post({ title: 'a' })
    await api.as(token).api({ user_id: 'bob' }).tasks.get()
    await api.as(`${token}x`).api({ user_id: 'alice' }).tasks.get()
    const raw = await api.rawLogs()
    expect(raw.length).toBeGreaterThan(0)
    for (const secret of [token, token.split('.')[2] as string, TEST_SECRET, 'Bearer'])
      expect(raw).not.toContain(secret)
  })
})

describe('CORS', () => {
  test('allows the configured origin and exposes the API headers', async () => {
    const { headers } = (await api.client.health.get({ headers: { origin: 'http://localhost:3000' } })).response
    expect(headers.get('access-control-allow-origin')).toBe('http://localhost:3000')
    expect(headers.get('access-control-expose-headers')).toContain('Location')
    // Bearer tokens only: no cookies, so browsers are never told to send credentials.
    expect(headers.get('access-control-allow-credentials')).toBeNull()
  })

  test('answers a preflight for the configured origin', async () => {
    const res = await api.request('OPTIONS', '/api/alice/tasks', {
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    })
    expect(res.status).toBeLessThan(300)
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:3000')
    expect(res.headers.get('access-control-allow-methods')).toContain('POST')
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization')
  })

  test('does not allow any other origin', async () => {
    for (const origin of ['http://evil.example', 'http://localhost:3000.evil.example', 'null']) {
      const res = await api.client.health.get({ headers: { origin } })
      expect(res.response.headers.get('access-control-allow-origin')).toBeNull()
    }
  })
})

describe('Swagger UI', () => {
  test('/swagger serves the UI from the app itself, not a CDN', async () => {
    const page = await (await api.request('GET', '/swagger')).text()
    expect(page).toContain('/swagger/assets/swagger-ui-bundle.js')
    expect(page).toContain('/swagger/assets/swagger-ui.css')
    expect(page).not.toMatch(/https?:\/\/(unpkg|cdn|fonts)/)
    const js = await api.request('GET', '/swagger/assets/swagger-ui-bundle.js')
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toContain('javascript')
    expect((await js.text()).length).toBeGreaterThan(100_000)
    const css = await api.request('GET', '/swagger/assets/swagger-ui.css')
    expect(css.headers.get('content-type')).toContain('text/css')
  })
})
