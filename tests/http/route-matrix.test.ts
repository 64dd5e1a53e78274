import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { SignJWT } from 'jose'
import { queryRows } from '../../src/db/client'
import { expectProblem, makeApp, TEST_SECRET, type TestApp, tokenFor } from '../support/app'
import { sampleOf } from '../support/arbitrary'
import { sharedDatabase } from '../support/database'
import { describeRoute, type RouteInfo, routeTable } from '../support/routes'
import { createTask } from '../support/tasks'

// The 401, 403 and 404 rules, checked on every route the app's route table holds: a route added
// tomorrow is in these matrices without anyone editing this file.

const routes = await routeTable()
const authenticated = routes.filter((r) => r.authenticated)
// The calendar feed names its user with a key instead of a token (tests/http/calendar.test.ts).
const perUser = routes.filter((r) => r.path.includes(':user_id') && r.authenticated)
const perTask = routes.filter((r) => r.path.includes(':id'))

let api: TestApp
beforeEach(async () => {
  api = await makeApp()
})

const bodyFor = (route: RouteInfo) => (route.body ? sampleOf(route.body) : undefined)

/** Everything a request could have changed, to compare before and after. */
async function snapshot() {
  const { db } = (await sharedDatabase()).database
  return queryRows(
    db,
    sql`select (select count(*)::int from users) as users,
               (select coalesce(json_agg(t order by t.id), '[]') from tasks t) as tasks,
               (select count(*)::int from sessions) as sessions`,
  )
}

const now = () => Math.floor(Date.now() / 1000)
const otherSecret = new TextEncoder().encode('another-secret-that-is-long-enough-0123456789')

const badCredentials: [string, () => Promise<string | undefined>][] = [
  ['no Authorization header', async () => undefined],
  ['a token that is not a JWT', async () => 'Bearer not-a-jwt'],
  ['Basic credentials', async () => 'Basic dXNlcjpwYXNz'],
  ['an expired token', async () => `Bearer ${await tokenFor('alice', {}, -300)}`],
  [
    'a token signed with another secret',
    async () =>
      `Bearer ${await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setExpirationTime(now() + 600)
        .sign(otherSecret)}`,
  ],
  [
    'an unsigned token (alg none)',
    async () =>
      `Bearer ${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'alice', exp: now() + 600 })).toString('base64url')}.`,
  ],
  [
    'a token without a subject',
    async () =>
      `Bearer ${await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(now() + 600)
        .sign(new TextEncoder().encode(TEST_SECRET))}`,
  ],
]

describe('401 on every authenticated route', () => {
  test('the route table has authenticated routes to check', () => {
    expect(authenticated.length).toBeGreaterThanOrEqual(14)
  })

  test.each(authenticated.map((r) => [describeRoute(r), r] as const))('%s', async (_, route) => {
    const before = await snapshot()
    for (const [what, header] of badCredentials) {
      const authorization = await header()
      const res = await api.request(route.method, route.pathFor('alice'), {
        body: bodyFor(route),
        headers: authorization ? { authorization } : {},
      })
      const problem = await expectProblem(res, 401, 'unauthorized').catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`)
      })
      expect(res.headers.get('www-authenticate')).toStartWith('Bearer')
      expect(problem.detail).not.toContain(authorization ?? '\u0000')
    }
    expect(await snapshot()).toEqual(before)
  })
})

describe("403 on every route naming another user's id", () => {
  test.each(perUser.map((r) => [describeRoute(r), r] as const))('%s', async (_, route) => {
    const bob = await tokenFor('bob')
    await api.request('POST', '/api/bob/tasks', { token: bob, body: { title: 'bob keeps this' } })
    const before = await snapshot()
    const res = await api.request(route.method, route.pathFor('bob', 1), {
      token: await tokenFor('alice'),
      body: bodyFor(route),
    })
    await expectProblem(res, 403, 'forbidden')
    expect(await snapshot()).toEqual(before)
  })
})

// Ids that name no task of the caller: unknown, someone else's, and ones that cannot exist.
const impossibleIds = [
  'abc',
  '0',
  '-1',
  '01',
  '1e3',
  '0x1',
  '1.0',
  '+1',
  ' 1',
  '2147483648',
  '9999999999',
  '99999999999999999999',
]

describe('404 on every route with a task id that names no task of the caller', () => {
  test.each(perTask.map((r) => [describeRoute(r), r] as const))('%s', async (_, route) => {
    const alice = await tokenFor('alice')
    const bob = await tokenFor('bob')
    const mine = await createTask(api, alice, 'alice', { title: 'mine' })
    const theirs = await createTask(api, bob, 'bob', { title: 'theirs' })
    const before = await snapshot()
    for (const id of [theirs.id, mine.id + 1000, ...impossibleIds]) {
      const res = await api.request(route.method, route.pathFor('alice', id), { token: alice, body: bodyFor(route) })
      await expectProblem(res, 404, 'not_found').catch((e: Error) => {
        throw new Error(`id ${JSON.stringify(id)}: ${e.message}`)
      })
    }
    expect(await snapshot()).toEqual(before)
  })
})
