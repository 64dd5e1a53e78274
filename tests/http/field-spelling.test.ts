import { beforeEach, describe, expect, test } from 'bun:test'
import type { Treaty } from '@elysiajs/eden'
import type { TSchema } from '@sinclair/typebox'
import { expectProblem, expectStatus, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { sampleOf } from '../support/arbitrary'
import { describeRoute, type RouteInfo, routeTable } from '../support/routes'
import { createTask, type TaskOut, tasksOf } from '../support/tasks'

// Request bodies take every writable field in snake_case and in camelCase (v2 conventions);
// responses stay snake_case. The contract's types name the snake_case spelling only, so the
// camelCase bodies go out raw; what is snake_case goes through the typed client.

const routes = await routeTable()
const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
const camelKeys = (body: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(body).map(([k, v]) => [camel(k), v]))
const snakeProperties = (route: RouteInfo) =>
  Object.keys((route.body as { properties?: object } | undefined)?.properties ?? {}).filter((k) => k.includes('_'))

let api: TestApp
let alice: string
beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

const PASSWORD = 'correct horse battery'
const register = async (email = 'ada@example.com') =>
  expectStatus(await api.client.api.auth.register.post({ email, password: PASSWORD, name: 'Ada' }), 201)
type Session = Treaty.Data<TestApp['client']['api']['auth']['refresh']['post']>

describe('camelCase on every route body', () => {
  const withSnakeFields = routes.filter((r) => snakeProperties(r).length > 0)

  test('the route table has such routes (tasks, refresh, logout, password)', () => {
    expect(withSnakeFields.length).toBeGreaterThanOrEqual(6)
  })

  test.each(withSnakeFields.map((r) => [describeRoute(r), r] as const))(
    '%s: a valid body spelled in camelCase is never refused for its spelling',
    async (_, route) => {
      const task = await createTask(api, alice, 'alice', { title: 't' })
      const schema = route.body as TSchema & { properties: Record<string, TSchema> }
      // Every snake_case field present, so each one's camelCase spelling is exercised.
      const full = { ...(sampleOf(schema) as Record<string, unknown>) }
      for (const key of snakeProperties(route))
        if (!(key in full)) full[key] = sampleOf(schema.properties[key] as TSchema)
      const res = await api.request(route.method, route.pathFor('alice', task.id), {
        token: alice,
        body: camelKeys(full),
      })
      if (res.status === 400) {
        const problem = await expectProblem(res, 400, 'validation_failed')
        for (const error of problem.errors ?? []) expect(error.message).not.toMatch(/not a known field|read-only/)
      } else expect(res.status).toBeLessThan(500)
    },
  )
})

describe('camelCase values are applied', () => {
  test('a task created with dueDate has that due date; the answer is snake_case', async () => {
    const res = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'Pay rent', description: null, completed: false, priority: 'high', dueDate: '2026-12-01' },
    })
    expect(res.status).toBe(201)
    const task = await json<TaskOut>(res)
    expect(task.due_date).toBe('2026-12-01')
    expect(task.priority).toBe('high')
    expect(Object.keys(task).filter((k) => /[A-Z]/.test(k))).toEqual([])
    const changed = await api.request('PATCH', `/api/alice/tasks/${task.id}`, { token: alice, body: { dueDate: null } })
    expect((await json<TaskOut>(changed)).due_date).toBeNull()
  })

  test('refreshToken, then currentPassword and newPassword, then refreshToken on logout', async () => {
    const session = await register()
    const refreshed = await api.request('POST', '/api/auth/refresh', { body: { refreshToken: session.refresh_token } })
    expect(refreshed.status).toBe(200)
    const next = await json<Session>(refreshed)
    const changed = await api.request('POST', '/api/auth/password', {
      token: next.token,
      body: { currentPassword: PASSWORD, newPassword: 'a brand new password' },
    })
    expect(changed.status).toBe(204)
    const login = await api.client.api.auth.login.post({ email: 'ada@example.com', password: 'a brand new password' })
    expect(login.status).toBe(200)
    const out = await api.request('POST', '/api/auth/logout', {
      token: next.token,
      body: { refreshToken: next.refresh_token },
    })
    expect(out.status).toBe(204)
    const after = await api.client.api.auth.refresh.post({ refresh_token: next.refresh_token })
    await expectProblem(after, 401, 'unauthorized')
  })
})

describe('both spellings at once', () => {
  test('with the same value: accepted', async () => {
    const res = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'x', due_date: '2026-12-01', dueDate: '2026-12-01' },
    })
    expect(res.status).toBe(201)
    expect((await json<TaskOut>(res)).due_date).toBe('2026-12-01')
  })

  test('with different values: a 400 naming the field, and nothing is stored', async () => {
    const res = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'x', due_date: '2026-12-01', dueDate: '2026-12-02' },
    })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors).toEqual([
      { field: 'due_date', message: 'is given as both due_date and dueDate, with different values' },
    ])
    expect(problem.detail).toBe(
      'The request body is invalid: due_date is given as both due_date and dueDate, with different values.',
    )
    expect((await tasksOf(api, alice, 'alice').get()).data).toEqual([])
  })

  test('the token is checked first: without one it is a 401', async () => {
    const res = await api.request('POST', '/api/alice/tasks', {
      body: { title: 'x', due_date: '2026-12-01', dueDate: '2026-12-02' },
    })
    await expectProblem(res, 401, 'unauthorized')
  })
})

describe('errors name a field as the client spelled it', () => {
  test('an invalid dueDate is reported as dueDate, an invalid due_date as due_date', async () => {
    const camelRes = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'x', dueDate: 'soon' },
    })
    const camelProblem = await expectProblem(camelRes, 400, 'validation_failed')
    expect(camelProblem.errors?.map((e) => e.field)).toEqual(['dueDate'])
    expect(camelProblem.detail).toStartWith('The request body is invalid: dueDate must be')
    const snakeRes = await tasksOf(api, alice, 'alice').post({ title: 'x', due_date: 'soon' })
    expect((await expectProblem(snakeRes, 400, 'validation_failed')).errors?.map((e) => e.field)).toEqual(['due_date'])
  })

  test('unknown and read-only fields keep the spelling sent', async () => {
    const res = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'x', fooBar: 1, userId: 'bob', createdAt: '2026-01-01T00:00:00Z' },
    })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors).toEqual([
      { field: 'fooBar', message: 'is not a known field' },
      { field: 'userId', message: 'is read-only and cannot be set' },
      { field: 'createdAt', message: 'is read-only and cannot be set' },
    ])
  })

  test('a wrong currentPassword is reported as currentPassword', async () => {
    const session = await register()
    const res = await api.request('POST', '/api/auth/password', {
      token: session.token,
      body: { currentPassword: 'not the password', newPassword: 'a brand new password' },
    })
    const problem = await expectProblem(res, 400, 'validation_failed')
    expect(problem.errors).toEqual([{ field: 'currentPassword', message: 'is not correct' }])
  })

  test('other spellings are not aliases: DueDate, DUE_DATE and due-date are unknown fields', async () => {
    for (const key of ['DueDate', 'DUE_DATE', 'due-date', 'duedate']) {
      const res = await api.request('POST', '/api/alice/tasks', {
        token: alice,
        body: { title: 'x', [key]: '2026-12-01' },
      })
      const problem = await expectProblem(res, 400, 'validation_failed')
      expect(problem.errors).toEqual([{ field: key, message: 'is not a known field' }])
    }
  })
})

describe('what is not renamed', () => {
  test('values are data: a tag spelled in camelCase stays as it is', async () => {
    const res = await tasksOf(api, alice, 'alice').post({ title: 'someTitle', tags: ['dueDate'] })
    const task = expectStatus(res, 201)
    expect([task.title, task.tags]).toEqual(['someTitle', ['dueDate']])
  })
})
