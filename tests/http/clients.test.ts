import { beforeEach, describe, expect, test } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import { everyRoute as everyRouteEden } from '../../clients/eden/every-route'
import { createTodoClient } from '../../clients/typescript'
import { everyRoute as everyRouteGenerated } from '../../clients/typescript/every-route'
import type { App } from '../../src/app'
import { makeApp, type TestApp } from '../support/app'
import { fireReminders } from '../support/reminders'
import { routeTable } from '../support/routes'

// The two typed clients a frontend would use, run against the server: the one generated from
// the OpenAPI document (openapi-typescript + openapi-fetch) and Eden Treaty on the server's own
// `App` type. Each calls every route once; the set of routes comes from the route table.

let api: TestApp
beforeEach(async () => {
  api = await makeApp()
  // Reminders fire on the way, as on a serving process.
  await fireReminders(api)
})

const account = () => ({
  email: `client-${crypto.randomUUID().slice(0, 8)}@example.com`,
  password: 'correct horse battery',
  name: 'Client',
})

// Eden calls its fetcher as fetch(url, init); the server under test takes a Request.
const edenClient = () =>
  treaty<App>('http://localhost', {
    fetcher: ((input: string, init?: RequestInit) => api.fetch(new Request(input, init))) as typeof fetch,
  })

const apiRoutes = async () =>
  (await routeTable())
    .filter((r) => !r.path.startsWith('/swagger'))
    .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, '{$1}')}`)
    .sort()

describe('typed clients call every route', () => {
  test('the generated client (openapi-fetch), with every answer a success', async () => {
    const tokens: { access?: string } = {}
    const client = createTodoClient({ baseUrl: 'http://localhost', fetch: api.fetch, token: () => tokens.access })
    const statuses = await everyRouteGenerated(client, account(), tokens)
    expect(Object.keys(statuses).sort()).toEqual(await apiRoutes())
    for (const [route, status] of Object.entries(statuses)) expect(status, route).toBeLessThan(300)
  })

  test('the Eden Treaty client, with every answer a success', async () => {
    const tokens: { access?: string } = {}
    const statuses = await everyRouteEden(edenClient(), account(), tokens)
    expect(Object.keys(statuses).sort()).toEqual(await apiRoutes())
    for (const [route, status] of Object.entries(statuses)) expect(status, route).toBeLessThan(300)
  })

  test('errors reach both clients as the API problem', async () => {
    const client = createTodoClient({ baseUrl: 'http://localhost', fetch: api.fetch })
    const generated = await client.GET('/api/auth/me')
    expect(generated.response.status).toBe(401)
    expect(generated.error?.code).toBe('unauthorized')
    const result = await edenClient().api.auth.me.get()
    expect(result.error?.status).toBe(401)
    expect(result.error?.value.code).toBe('unauthorized')
  })
})
