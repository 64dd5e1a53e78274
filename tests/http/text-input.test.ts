import { beforeEach, describe, expect, test } from 'bun:test'
import { tasks, users } from '../../src/db/schema'
import { expectProblem, expectStatus, json, makeApp, type TestApp } from '../support/app'
import { sharedDatabase } from '../support/database'
import { createTask, type TaskOut } from '../support/tasks'

// JSON.stringify writes a lone surrogate as the escape `\ud800`: these bodies carry exactly
// what a client would send.
const LONE_SURROGATES = ['\ud800', '\udbff', 'ok \udc00 ok', '\ud83d']
const PASSWORD = 'correct horse battery'

let api: TestApp
let token: string
let userId: string
let refreshToken: string
let taskId: number

beforeEach(async () => {
  api = await makeApp()
  const session = expectStatus(
    await api.client.api.auth.register.post({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' }),
    201,
  )
  token = session.token
  userId = session.user.id
  refreshToken = session.refresh_token
  taskId = (await createTask(api, token, userId, { title: 'kept', description: 'kept', tags: ['kept'] })).id
})

const database = async () => (await sharedDatabase()).database.db

interface Case {
  name: string
  field: string
  send: (text: string) => Promise<Response>
}

const cases: Case[] = [
  { name: 'task title', field: 'title', send: (s) => post(`/tasks`, { title: s }) },
  { name: 'task description', field: 'description', send: (s) => post(`/tasks`, { title: 'a', description: s }) },
  { name: 'task tag', field: 'tags.1', send: (s) => post(`/tasks`, { title: 'a', tags: ['fine', s] }) },
  { name: 'title in PUT', field: 'title', send: (s) => task('PUT', { title: s }) },
  { name: 'description in PATCH', field: 'description', send: (s) => task('PATCH', { description: s }) },
  { name: 'tag in PATCH', field: 'tags.0', send: (s) => task('PATCH', { tags: [s] }) },
  {
    name: 'email at register',
    field: 'email',
    send: (s) => anonymous('/register', { email: `${s}@example.com`, password: PASSWORD, name: 'B' }),
  },
  {
    name: 'password at register',
    field: 'password',
    send: (s) => anonymous('/register', { email: 'bea@example.com', password: `${PASSWORD}${s}`, name: 'B' }),
  },
  {
    name: 'name at register',
    field: 'name',
    send: (s) => anonymous('/register', { email: 'bea@example.com', password: PASSWORD, name: s }),
  },
  {
    name: 'email at login',
    field: 'email',
    send: (s) => anonymous('/login', { email: `a${s}@example.com`, password: 'x' }),
  },
  {
    name: 'password at login',
    field: 'password',
    send: (s) => anonymous('/login', { email: 'ada@example.com', password: `${PASSWORD}${s}` }),
  },
  { name: 'refresh token', field: 'refresh_token', send: (s) => anonymous('/refresh', { refresh_token: s }) },
  {
    name: 'refresh token at logout',
    field: 'refresh_token',
    send: (s) => api.request('POST', '/api/auth/logout', { token, body: { refresh_token: s } }),
  },
  {
    name: 'name in PATCH /me',
    field: 'name',
    send: (s) => api.request('PATCH', '/api/auth/me', { token, body: { name: s } }),
  },
  {
    name: 'new password',
    field: 'new_password',
    send: (s) =>
      api.request('POST', '/api/auth/password', {
        token,
        body: { current_password: PASSWORD, new_password: `${PASSWORD}${s}` },
      }),
  },
  {
    name: 'current password',
    field: 'current_password',
    send: (s) =>
      api.request('POST', '/api/auth/password', { token, body: { current_password: s, new_password: `${PASSWORD}!` } }),
  },
]

const post = (path: string, body: unknown) => api.request('POST', `/api/${userId}${path}`, { token, body })
const task = (method: string, body: unknown) => api.request(method, `/api/${userId}/tasks/${taskId}`, { token, body })
const anonymous = (path: string, body: unknown) => api.request('POST', `/api/auth${path}`, { body })

describe('a lone UTF-16 surrogate in a text input', () => {
  for (const { name, field, send } of cases)
    test(`${name}: a 400 naming ${field}, nothing changed`, async () => {
      for (const lone of LONE_SURROGATES) {
        const problem = await expectProblem(await send(lone), 400, 'validation_failed')
        expect(problem.errors).toContainEqual({
          field,
          message: 'contains a lone UTF-16 surrogate, which is not valid Unicode',
        })
      }
      const db = await database()
      expect((await db.select().from(users)).map((u) => [u.email, u.name])).toEqual([['ada@example.com', 'Ada']])
      expect((await db.select().from(tasks)).map((t) => [t.title, t.description, t.tags])).toEqual([
        ['kept', 'kept', ['kept']],
      ])
      // The session and the password still work as before.
      const login = await anonymous('/login', { email: 'ada@example.com', password: PASSWORD })
      expect(login.status).toBe(200)
      expect((await anonymous('/refresh', { refresh_token: refreshToken })).status).toBe(200)
    })

  test('surrogate pairs (emoji) are fine everywhere', async () => {
    const res = await post('/tasks', { title: '😀 \ud83d\ude00', description: '🎉', tags: ['🏷️'] })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ title: '😀 😀', description: '🎉', tags: ['🏷️'] })
  })

  test('U+0000 is named as such', async () => {
    const problem = await expectProblem(await post('/tasks', { title: 'a\u0000b' }), 400, 'validation_failed')
    expect(problem.errors).toEqual([{ field: 'title', message: 'contains U+0000, which cannot be stored' }])
  })
})

describe('query parameters', () => {
  const list = (query: string) => api.request('GET', `/api/${userId}/tasks?${query}`, { token })
  const refused = 'is not percent-encoded UTF-8 (an unpaired surrogate or a stray byte)'

  test.each([
    ['q', 'q=%ED%A0%80'],
    ['q', 'q=meet%ED%B0%80ing'],
    ['q', 'q=%FF'],
    ['tag', 'tag=work,%ED%A0%80'],
    ['cursor', 'cursor=%ED%A0%80'],
    ['tz', 'tz=%ED%A0%80'],
    ['due_before', 'due_before=%C0%AF'],
  ])('%s: escapes that are not UTF-8 (%s) are a 400 naming it', async (field, query) => {
    const problem = await expectProblem(await list(query), 400, 'validation_failed')
    expect(problem.errors?.map((e) => e.field)).toEqual([field])
  })

  test('the undecodable escape is named for what it is', async () => {
    const problem = await expectProblem(await list('q=%ED%A0%80&tag=%FF'), 400, 'validation_failed')
    expect(problem.errors).toEqual([
      { field: 'q', message: refused },
      { field: 'tag', message: refused },
    ])
  })

  test('U+0000 in a search is named as such', async () => {
    const problem = await expectProblem(await list('q=a%00b'), 400, 'validation_failed')
    expect(problem.errors).toEqual([{ field: 'q', message: 'contains U+0000, which cannot be stored' }])
  })

  test('UTF-8 escapes, U+FFFD itself and a literal % are read as text', async () => {
    await post('/tasks', { title: 'Café 100% \ufffd' })
    for (const query of ['q=caf%C3%A9', 'q=100%', 'q=%EF%BF%BD%20caf%C3%A9', 'tag=kept']) {
      const res = await list(query)
      expect({ query, status: res.status }).toEqual({ query, status: 200 })
    }
    const found = await json<TaskOut[]>(await list('q=caf%C3%A9'))
    expect(found.map((t) => t.title)).toEqual(['Café 100% \ufffd'])
  })
})
