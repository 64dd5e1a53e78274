import { afterAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { type Database, openPostgres } from '../src/db/client'
import { fingerprint } from '../src/modules/idempotency/model'
import { expectStatus, makeInProcessApp, type RequestOptions, tokenFor } from './support/app'
import { sampleOf } from './support/arbitrary'
import { sharedDatabase } from './support/database'
import { describeRoute, type RouteInfo, routeTable } from './support/routes'
import { createTask } from './support/tasks'

// The property tests show that every answer is one the route documents; this shows the
// converse: every error status a route documents is one it really gives. Together: each route
// documents exactly the statuses it can produce. In process, because a database that is gone
// (503) is injected.

const routes = (await routeTable()).filter((r) => !r.path.startsWith('/swagger'))
const nowhere = await openPostgres('postgres://postgres@127.0.0.1:1/none', { connectTimeout: 1 })
afterAll(() => nowhere.close())

const PASSWORD = 'correct horse battery'
const from = (address: string) => ({ 'x-forwarded-for': address })

/** A user with a password, a session and a task, on an app configured by `env`. */
async function situation(env: Record<string, string> = {}, database?: Database) {
  const setup = await makeInProcessApp({ env })
  const email = `u${crypto.randomUUID().slice(0, 8)}@example.com`
  const session = expectStatus(await setup.client.api.auth.register.post({ email, password: PASSWORD, name: 'U' }), 201)
  const task = await createTask(setup, session.token, session.user.id, { title: 't' })
  const app = database ? await makeInProcessApp({ env, database }) : setup
  return {
    app,
    token: session.token,
    taskId: task.id,
    refreshToken: session.refresh_token,
    user: session.user.id,
    email,
  }
}

type Built = Awaited<ReturnType<typeof situation>>
const validBody = (route: RouteInfo, s: Built) =>
  route.path === '/api/auth/register'
    ? { email: `new${crypto.randomUUID().slice(0, 8)}@example.com`, password: PASSWORD, name: 'New' }
    : route.path === '/api/auth/refresh' || route.path === '/api/auth/logout'
      ? { refresh_token: s.refreshToken }
      : route.path === '/api/auth/login'
        ? { email: s.email, password: PASSWORD }
        : route.body
          ? sampleOf(route.body)
          : undefined

const FEED = '/api/:user_id/calendar.ics'
/**
 * The calendar feed's query: a key of the user, stored straight into the database (the key
 * route would count against a rate limit the situation may have used up).
 */
const feedKeys = new WeakMap<Built, string>()
async function feedQuery(route: RouteInfo, s: Built): Promise<string> {
  if (route.path !== FEED) return ''
  if (!feedKeys.has(s)) {
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
    const hash = new Bun.CryptoHasher('sha256').update(key).digest('hex')
    const { database } = await sharedDatabase()
    await database.db.execute(
      sql`insert into calendar_keys (user_id, key_hash) values (${s.user}, ${hash}) on conflict (user_id) do update set key_hash = excluded.key_hash`,
    )
    feedKeys.set(s, key)
  }
  return `?key=${feedKeys.get(s)}`
}

const call = async (route: RouteInfo, s: Built, options: RequestOptions & { user?: string; id?: number } = {}) =>
  s.app.request(
    route.method,
    `${route.pathFor(options.user ?? s.user, options.id ?? s.taskId)}${await feedQuery(route, s)}`,
    { token: route.authenticated ? s.token : undefined, body: validBody(route, s), ...options },
  )

const takesKey = (route: RouteInfo) =>
  ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method) && route.path.startsWith('/api/:user_id/')

/** How to make each error status happen on a route; undefined where the recipe does not apply. */
const recipes: Record<string, (route: RouteInfo) => Promise<Response> | undefined> = {
  400: async (route) => {
    const s = await situation()
    if (route.body) return call(route, s, { body: { not_a_field: 1 } })
    return s.app.request(route.method, `${route.pathFor(s.user, s.taskId)}?not_a_parameter=1`, { token: s.token })
  },
  401: async (route) => {
    const s = await situation()
    if (route.authenticated) return call(route, s, { token: undefined })
    if (route.path === '/api/auth/login')
      return call(route, s, { body: { email: s.email, password: 'wrong password' } })
    return call(route, s, { body: { refresh_token: 'not-a-refresh-token' } })
  },
  403: async (route) => call(route, await situation(), { user: 'someone-else' }),
  404: async (route) => {
    const s = await situation()
    // A calendar key that is not the user's.
    if (route.path === FEED) return s.app.request('GET', `${route.pathFor(s.user)}?key=${'A'.repeat(43)}`)
    // A batch names the id in an operation.
    if (route.path === '/api/:user_id/batch')
      return call(route, s, {
        body: { operations: [{ op: 'update', type: 'task', id: 2_000_000_000, data: { title: 'x' } }] },
      })
    return call(route, s, { id: 2_000_000_000 })
  },
  409: async (route) => {
    const s = await situation()
    // A first password for an external user whose address the situation's account logs in with.
    if (route.path === '/api/auth/password') {
      const token = await tokenFor(`ext-${crypto.randomUUID()}`, { email: s.email })
      return call(route, s, { token, body: { new_password: PASSWORD } })
    }
    // A batch whose second operation takes the name its first one gave a list.
    if (route.path === '/api/:user_id/batch') {
      const create = { op: 'create', type: 'list', data: { name: 'Twice' } }
      return call(route, s, { body: { operations: [create, create] } })
    }
    if (route.path.startsWith('/api/:user_id/lists') && !route.path.endsWith('/move')) {
      // A list whose name is taken (create, rename), or that still has a task (delete).
      const lists = s.app.as(s.token).api({ user_id: s.user }).lists
      expectStatus(await lists.post({ name: 'Taken' }), 201)
      const other = expectStatus(await lists.post({ name: 'Other' }), 201)
      await createTask(s.app, s.token, s.user, { title: 'in it', list_id: other.id })
      return call(route, s, { id: other.id, body: { name: 'TAKEN' } })
    }
    if (takesKey(route)) {
      // The same request with the same Idempotency-Key is running (say, on another instance).
      const path = route.pathFor(s.user, s.taskId)
      const body = validBody(route, s)
      const request = new Request(`http://localhost${path}`, { method: route.method })
      const bytes = new TextEncoder().encode(body === undefined ? '' : JSON.stringify(body))
      const { database } = await sharedDatabase()
      await database.db.execute(
        sql`insert into idempotency_keys (user_id, key, fingerprint, expires_at) values (${s.user}, 'running', ${fingerprint(request, s.user, bytes)}, now() + interval '1 day')`,
      )
      return call(route, s, { body, headers: { 'idempotency-key': 'running' } })
    }
    return call(route, s, { body: { email: s.email, password: PASSWORD, name: 'Again' } })
  },
  410: async (route) => {
    // A sync token never issued to this user (ahead of its counter).
    const s = await situation()
    return s.app.request(route.method, `${route.pathFor(s.user, s.taskId)}?since=999999`, { token: s.token })
  },
  412: async (route) => {
    // A version the task (or list) is not at: in If-Match, or on a batch's operation.
    const s = await situation()
    if (route.path === '/api/:user_id/batch') {
      const update = { op: 'update', type: 'task', id: s.taskId, version: 999_999, data: { title: 'x' } }
      return call(route, s, { body: { operations: [update] } })
    }
    const id = route.path.includes(':list_id')
      ? expectStatus(await s.app.as(s.token).api({ user_id: s.user }).lists.post({ name: 'Versioned' }), 201).id
      : s.taskId
    return call(route, s, { id, headers: { 'if-match': '"999999"' } })
  },
  413: async (route) => call(route, await situation(), { body: { title: 'x'.repeat(70 * 1024) } }),
  415: async (route) => call(route, await situation(), { body: 'title=x', headers: { 'content-type': 'text/plain' } }),
  422: async (route) => {
    // An Idempotency-Key used first for another request.
    const s = await situation()
    const headers = { 'idempotency-key': 'used-before' }
    const tasks = `/api/${s.user}/tasks`
    const first =
      route.method === 'POST' && route.path === '/api/:user_id/tasks'
        ? s.app.request('PATCH', `${tasks}/${s.taskId}`, { token: s.token, body: { title: 'first' }, headers })
        : s.app.request('POST', tasks, { token: s.token, body: { title: 'first' }, headers })
    expect((await first).status).toBeLessThan(300)
    return call(route, s, { headers })
  },
  429: async (route) => {
    const s = await situation({
      RATE_LIMIT_PER_MINUTE: '1',
      TRUST_PROXY: 'true',
      SIGNUP_MAX_PER_ADDRESS: '1',
      REFRESH_MAX_PER_ADDRESS: '1',
      LOGIN_MAX_FAILURES: '1',
    })
    const headers = from('203.0.113.9')
    // The first uses up the allowance (a failed login, for the login limit); the second is refused.
    const first = route.path === '/api/auth/login' ? { body: { email: s.email, password: 'no' } } : {}
    await call(route, s, { headers, ...first })
    return call(route, s, { headers })
  },
  503: async (route) => call(route, await situation({}, nowhere)),
}

describe('every error status a route documents, it really answers', () => {
  test.each(routes.map((r) => [describeRoute(r), r] as const))('%s', async (_, route) => {
    const missing: string[] = []
    for (const status of Object.keys(route.responses).filter((s) => Number(s) >= 400)) {
      const recipe = recipes[status]
      const res = recipe ? await recipe(route) : undefined
      if (res?.status !== Number(status)) missing.push(`${status} (got ${res?.status ?? 'no recipe'})`)
    }
    expect(missing).toEqual([])
  })
})
