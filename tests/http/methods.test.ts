import { beforeEach, describe, expect, test } from 'bun:test'
import { expectProblem, makeApp, type TestApp, tokenFor } from '../support/app'
import { routeTable } from '../support/routes'

// A method a path does not have is a 405 with Allow, on every path of the route table; a
// path that no route has stays a 404.

const routes = await routeTable()
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

let api: TestApp
let alice: string
beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

// The router's own reading of a pattern: `:name` is one segment.
const matches = (pattern: string, path: string) => new RegExp(`^${pattern.replace(/:[^/]+/g, '[^/]+')}$`).test(path)

/** Every method some route serves at this concrete path. */
const servedAt = (path: string) => new Set(routes.filter((r) => matches(r.path, path)).map((r) => r.method))

const patterns = [...new Set(routes.map((r) => r.path))]

describe('405 with Allow on every path of the route table', () => {
  test.each(patterns)('%s', async (pattern) => {
    const route = routes.find((r) => r.path === pattern)
    const path = route?.pathFor('alice', 1) as string
    const served = servedAt(path)
    const missing = METHODS.filter((m) => !served.has(m))
    for (const method of missing) {
      const res = await api.request(method, path, { token: alice })
      await expectProblem(res, 405, 'method_not_allowed').catch((e: Error) => {
        throw new Error(`${method} ${path}: ${e.message}`)
      })
      const allow = res.headers.get('allow')?.split(', ') ?? []
      for (const m of served) expect(allow).toContain(m)
      if (served.has('GET')) expect(allow).toContain('HEAD')
      expect(allow).toContain('OPTIONS')
      expect(allow).not.toContain(method)
    }
  })

  test('examples: DELETE /health, GET /api/auth/login, POST /api/alice/tasks/7', async () => {
    const health = await api.request('DELETE', '/health')
    const problem = await expectProblem(health, 405, 'method_not_allowed')
    expect(health.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
    expect(problem.detail).toBe('DELETE is not allowed on /health; it allows GET, HEAD, OPTIONS.')
    const login = await api.request('GET', '/api/auth/login')
    await expectProblem(login, 405, 'method_not_allowed')
    expect(login.headers.get('allow')).toBe('OPTIONS, POST')
    const task = await api.request('POST', '/api/alice/tasks/7', { token: alice })
    await expectProblem(task, 405, 'method_not_allowed')
    expect(task.headers.get('allow')).toBe('DELETE, GET, HEAD, OPTIONS, PATCH, PUT')
  })

  test('comes before the token check: the methods of a path are no secret', async () => {
    const res = await api.request('PUT', '/api/alice/tasks')
    await expectProblem(res, 405, 'method_not_allowed')
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST')
  })

  test('a trailing slash names the same path', async () => {
    const res = await api.request('DELETE', '/health/')
    await expectProblem(res, 405, 'method_not_allowed')
  })
})

describe('what stays as it was', () => {
  test('paths no route has are a 404, whatever the method', async () => {
    for (const [method, path] of [
      ['GET', '/nowhere'],
      ['DELETE', '/nowhere'],
      ['GET', '/'],
      ['GET', '/api/alice/nothing'],
      ['POST', '/api/alice/tasks/1/nothing'],
      ['GET', '/api/auth'],
    ] as const) {
      const res = await api.request(method, path, { token: alice })
      await expectProblem(res, 404, 'not_found').catch((e: Error) => {
        throw new Error(`${method} ${path}: ${e.message}`)
      })
      expect(res.headers.get('allow')).toBeNull()
    }
  })

  test('HEAD still answers on a GET route, and a CORS preflight still succeeds on any path', async () => {
    expect((await api.request('HEAD', '/health')).status).toBe(200)
    const preflight = await api.request('OPTIONS', '/api/auth/login', {
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:3000')
  })

  test('a browser may read Allow (it is exposed by CORS)', async () => {
    const res = await api.request('DELETE', '/health', { headers: { origin: 'http://localhost:3000' } })
    expect(res.headers.get('access-control-expose-headers')).toContain('Allow')
  })
})
