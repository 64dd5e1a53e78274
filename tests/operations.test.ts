import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, makeApp, TEST_SECRET, type TestApp, tokenFor } from './support/app'
import { sharedDatabase } from './support/database'

let api: TestApp
beforeEach(async () => {
  api = await makeApp()
})

describe('health and readiness', () => {
  test('/health answers 200 without auth', async () => {
    const res = await api.request('GET', '/health')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  test('/ready answers 200 on a migrated database, 503 when a migration is missing', async () => {
    expect(await (await api.request('GET', '/ready')).json()).toEqual({ status: 'ready' })
    const { db } = (await sharedDatabase()).database
    await db.execute(sql`update drizzle.__drizzle_migrations set created_at = created_at - 1000000000`)
    try {
      await expectProblem(await api.request('GET', '/ready'), 503, 'service_unavailable')
    } finally {
      await db.execute(sql`update drizzle.__drizzle_migrations set created_at = created_at + 1000000000`)
    }
    expect((await api.request('GET', '/ready')).status).toBe(200)
  })
})

describe('X-Request-Id', () => {
  test('is generated when absent, echoed when given, replaced when malformed', async () => {
    const generated = (await api.request('GET', '/health')).headers.get('x-request-id')
    expect(generated).toMatch(/^[0-9a-f-]{36}$/)
    const echoed = await api.request('GET', '/health', { headers: { 'x-request-id': 'abc-123.x:y' } })
    expect(echoed.headers.get('x-request-id')).toBe('abc-123.x:y')
    for (const bad of ['has spaces', 'x'.repeat(129), 'inject"quote']) {
      const res = await api.request('GET', '/health', { headers: { 'x-request-id': bad } })
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    }
  })

  test('is on error responses too', async () => {
    const res = await api.request('GET', '/api/alice/tasks', { headers: { 'x-request-id': 'req-401' } })
    expect(res.status).toBe(401)
    expect(res.headers.get('x-request-id')).toBe('req-401')
  })
})

describe('request logs', () => {
  test('one JSON line per request with method, route, status, duration and request id', async () => {
    const token = await tokenFor('alice')
    await api.request('POST', '/api/alice/tasks', { token, body: { title: 'a' }, headers: { 'x-request-id': 'r1' } })
    await api.request('GET', '/api/alice/tasks', { headers: { 'x-request-id': 'r2' } })
    await api.request('GET', '/nowhere', { headers: { 'x-request-id': 'r3' } })
    await Bun.sleep(20) // the log line is written after the response is handed back
    const requests = api.logs.filter((l) => l.msg === 'request')
    expect(requests).toHaveLength(3)
    expect(requests[0]).toMatchObject({ request_id: 'r1', method: 'POST', route: '/api/:user_id/tasks', status: 201 })
    expect(requests[1]).toMatchObject({ request_id: 'r2', method: 'GET', status: 401 })
    expect(requests[2]).toMatchObject({ request_id: 'r3', status: 404, path: '/nowhere' })
    for (const line of requests) expect(typeof line.duration_ms).toBe('number')
  })

  test('a failed query is logged without its parameter values', async () => {
    const { createLogger } = await import('../src/logger')
    const lines: string[] = []
    const logger = createLogger('debug', (l) => lines.push(l))
    const { db } = (await sharedDatabase()).database
    const { users } = await import('../src/db/schema')
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
    await api.request('POST', '/api/alice/tasks', { token, body: { title: 'a' } })
    await api.request('GET', '/api/bob/tasks', { token })
    await api.request('GET', '/api/alice/tasks', { token: `${token}x` })
    const raw = api.rawLogs()
    expect(raw.length).toBeGreaterThan(0)
    for (const secret of [token, token.split('.')[2] as string, TEST_SECRET, 'Bearer'])
      expect(raw).not.toContain(secret)
  })
})

describe('CORS', () => {
  test('allows the configured origin and exposes the API headers', async () => {
    const res = await api.request('GET', '/health', { headers: { origin: 'http://localhost:3000' } })
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:3000')
    expect(res.headers.get('access-control-expose-headers')).toContain('Location')
    // Bearer tokens only: no cookies, so browsers are never told to send credentials.
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
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
      const res = await api.request('GET', '/health', { headers: { origin } })
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    }
  })
})

interface JsonSchema {
  properties: Record<string, unknown>
  additionalProperties?: boolean
}
interface Operation {
  security?: unknown
  responses: Record<string, unknown>
  requestBody?: { content: Record<string, { schema: JsonSchema }> }
  parameters?: { name: string; schema?: unknown }[]
}

describe('OpenAPI and Swagger UI', () => {
  test('/swagger/json documents every route with request and response schemas and bearer security', async () => {
    const res = await api.request('GET', '/swagger/json')
    expect(res.status).toBe(200)
    const doc = await res.json()
    expect(doc.openapi).toStartWith('3.1')
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
    const expected: Record<string, string[]> = {
      '/api/{user_id}/tasks': ['get', 'post'],
      '/api/{user_id}/tasks/{id}': ['get', 'put', 'patch', 'delete'],
      '/api/{user_id}/tasks/{id}/complete': ['patch'],
    }
    const paths = doc.paths as Record<string, Record<string, Operation>>
    for (const [path, methods] of Object.entries(expected))
      for (const method of methods) {
        const op = paths[path]?.[method]
        expect(op, `${method} ${path}`).toBeDefined()
        expect(op?.security).toEqual([{ bearer: [] }])
        for (const status of ['401', '403']) expect(Object.keys(op?.responses ?? {})).toContain(status)
      }
    const create = paths['/api/{user_id}/tasks']?.post as Operation
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '413', '415', '429', '503']))
    const body = create.requestBody?.content['application/json']?.schema as JsonSchema
    expect(body.properties.title).toMatchObject({ minLength: 1, maxLength: 255 })
    expect(body.additionalProperties).toBe(false)
    const list = paths['/api/{user_id}/tasks']?.get as Operation
    const status = list.parameters?.find((p) => p.name === 'status')
    expect(JSON.stringify(status)).toContain('completed')
    expect(JSON.stringify(doc)).toContain('"examples"')
    expect(paths['/health']).toBeDefined()
    expect(paths['/ready']).toBeDefined()
  })

  test('documents every list parameter with its allowed values, and the stats and tags routes', async () => {
    const doc = await (await api.request('GET', '/swagger/json')).json()
    const paths = doc.paths as Record<string, Record<string, Operation>>
    const params = Object.fromEntries(
      (paths['/api/{user_id}/tasks']?.get?.parameters ?? []).map((p) => [p.name, p.schema as Record<string, unknown>]),
    )
    const names = ['status', 'priority', 'tag', 'tag_mode', 'due_before', 'due_after', 'overdue', 'has_due', 'q', 'tz']
    for (const name of [...names, 'sort', 'order', 'limit', 'cursor'])
      expect(params[name]?.description, name).toEqual(expect.any(String))
    expect(params.priority?.items).toMatchObject({ enum: ['low', 'medium', 'high'] })
    expect(params.sort?.enum).toEqual(expect.arrayContaining(['due_date', '-priority', 'completed_at']))
    expect(params.order?.enum).toEqual(['asc', 'desc'])
    expect(params.tag_mode?.enum).toEqual(['all', 'any'])
    expect(params.overdue?.type).toBe('boolean')
    for (const name of ['due_before', 'tz', 'q']) expect(params[name]?.examples, name).toEqual(expect.any(Array))
    const stats = paths['/api/{user_id}/tasks/stats']?.get as Operation
    expect(stats.security).toEqual([{ bearer: [] }])
    expect(JSON.stringify(stats.responses['200'])).toContain('due_today')
    expect(paths['/api/{user_id}/tags']?.get?.security).toEqual([{ bearer: [] }])
    const task = paths['/api/{user_id}/tasks/{id}']?.get?.responses['200']
    for (const field of ['priority', 'tags', 'due_date', 'completed_at']) expect(JSON.stringify(task)).toContain(field)
  })

  test('documents the account routes so a reader can register, log in and authorize from the page', async () => {
    const doc = await (await api.request('GET', '/swagger/json')).json()
    const paths = doc.paths as Record<string, Record<string, Operation>>
    for (const route of ['register', 'login', 'refresh', 'logout']) {
      const op = paths[`/api/auth/${route}`]?.post
      expect(op?.requestBody?.content['application/json']?.schema.properties).toBeDefined()
    }
    expect(paths['/api/auth/register']?.post?.responses).toHaveProperty('201')
    expect(paths['/api/auth/register']?.post?.responses).toHaveProperty('409')
    expect(paths['/api/auth/login']?.post?.responses).toHaveProperty('429')
    expect(paths['/api/auth/login']?.post?.security).toBeUndefined()
    expect(paths['/api/auth/me']?.get?.security).toEqual([{ bearer: [] }])
    expect(paths['/api/auth/me']?.patch).toBeDefined()
    expect(paths['/api/auth/logout-all']?.post).toBeDefined()
    expect(paths['/api/auth/password']?.post).toBeDefined()
  })

  test('errors are application/problem+json, headers are documented, ids are plain integers', async () => {
    const doc = await (await api.request('GET', '/swagger/json')).json()
    const task = doc.paths['/api/{user_id}/tasks/{id}'].get
    expect(Object.keys(task.responses['404'].content)).toEqual(['application/problem+json'])
    expect(Object.keys(task.responses['200'].content)).toEqual(['application/json'])
    expect(task.responses['401'].headers).toHaveProperty('WWW-Authenticate')
    expect(task.responses['503'].headers).toHaveProperty('Retry-After')
    expect(task.responses['200'].headers).toHaveProperty('X-Request-Id')
    const id = task.parameters.find((p: { name: string }) => p.name === 'id')
    expect(id.schema).toMatchObject({ type: 'integer', minimum: 1 })
    expect(id.schema.anyOf).toBeUndefined()
    const list = doc.paths['/api/{user_id}/tasks'].get
    expect(list.responses['200'].headers).toHaveProperty('Link')
    expect(list.parameters.find((p: { name: string }) => p.name === 'limit').schema.type).toBe('integer')
    expect(doc.paths['/api/{user_id}/tasks'].post.responses['201'].headers).toHaveProperty('Location')
    const complete = doc.paths['/api/{user_id}/tasks/{id}/complete'].patch
    expect(complete.requestBody.required).toBe(false)
    expect(JSON.stringify(doc)).not.toContain('x-optional-body')
  })

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
