import { beforeEach, describe, expect, test } from 'bun:test'
import { expectProblem, expectStatus, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { sampleOf } from '../support/arbitrary'
import { describeRoute, routeTable } from '../support/routes'
import { inState, targetFor } from '../support/targets'
import { createTask, listAll, nextLink, tasksOf } from '../support/tasks'

// `me` in the {user_id} position stands for the token's subject, on every route.

const routes = await routeTable()
// Bearer routes: `me` is the token's subject. The calendar feed has no token to name anyone.
const perUser = routes.filter((r) => r.path.includes(':user_id') && r.authenticated)

let api: TestApp
let alice: string
beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

describe('every route with {user_id} takes me', () => {
  test('the route table has such routes', () => {
    expect(perUser.length).toBeGreaterThanOrEqual(9)
  })

  test.each(perUser.map((r) => [describeRoute(r), r] as const))(
    '%s',
    async (_, route) => {
      const target = await targetFor(api, alice, 'alice', route)
      const body = route.body ? await inState(api, alice, 'alice', route, sampleOf(route.body)) : undefined
      const res = await api.request(route.method, route.pathFor('me', target), { token: alice, body })
      if (res.status >= 300)
        throw new Error(`${describeRoute(route)} with me answered ${res.status}: ${await res.text()}`)
      if (route.stream) {
        expect(res.headers.get('content-type')).toStartWith('text/event-stream')
        await res.body?.cancel()
      } else if (route.method === 'GET') {
        const real = await api.request('GET', route.pathFor('alice', target), { token: alice })
        expect(await json<unknown>(res)).toEqual(await json<unknown>(real))
      }
      // A reminder route's target waits for the reminder to fire (1.5 s ahead).
    },
    20_000,
  )
})

describe('answers name the real id', () => {
  test('POST /api/me/tasks: user_id and Location carry the real id', async () => {
    const res = await tasksOf(api, alice, 'me').post({ title: 'x' })
    const task = expectStatus(res, 201)
    expect(task.user_id).toBe('alice')
    const location = res.response.headers.get('location')
    expect(location).toBe(`/api/alice/tasks/${task.id}`)
    expect((await api.request('GET', location as string, { token: alice })).status).toBe(200)
  })

  test('the Link to the next page keeps me, and following it reaches every task', async () => {
    for (const title of ['a', 'b', 'c']) await createTask(api, alice, 'alice', { title })
    const firstPage = () => tasksOf(api, alice, 'me').get({ query: { limit: 1 } })
    expect(nextLink((await firstPage()).response)).toStartWith('/api/me/tasks?')
    expect((await listAll(api, alice, await firstPage(), 1)).map((t) => t.title)).toEqual(['c', 'b', 'a'])
  })
})

describe('me is always the caller', () => {
  test("bob's me is bob: he never sees alice's tasks through it", async () => {
    await createTask(api, alice, 'alice', { title: 'alice only' })
    const bob = await tokenFor('bob')
    await createTask(api, bob, 'bob', { title: 'bob only' })
    const res = await tasksOf(api, bob, 'me').get()
    expect(res.data?.map((t) => t.title)).toEqual(['bob only'])
  })

  test('a user whose id is "me" reaches its own tasks either way, and nobody else reaches them', async () => {
    const me = await tokenFor('me')
    const task = await createTask(api, me, 'me', { title: 'the me user' })
    expect(task.user_id).toBe('me')
    expect((await tasksOf(api, me, 'me')({ id: task.id }).get()).status).toBe(200)
    await expectProblem(await tasksOf(api, alice, 'me')({ id: task.id }).get(), 404, 'not_found')
    expect((await tasksOf(api, alice, 'me').get()).data).toEqual([])
  })

  test('without a token /api/me/tasks is a 401; another real id is still a 403', async () => {
    await expectProblem(await api.client.api({ user_id: 'me' }).tasks.get(), 401, 'unauthorized')
    await expectProblem(await tasksOf(api, alice, 'bob').get(), 403, 'forbidden')
  })
})
