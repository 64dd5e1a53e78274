import { beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROBLEM_CODES } from '../../src/http/problem'
import { makeApp, TEST_SECRET, type TestApp, tokenFor } from '../support/app'
import { TODO_API } from '../support/processes'
import { describeRoute, routeTable } from '../support/routes'
import { createTask } from '../support/tasks'

// biome-ignore lint/suspicious/noExplicitAny: the document is JSON read by these assertions
type Json = any

let api: TestApp
beforeEach(async () => {
  api = await makeApp()
})

const fetchDocument = async () => {
  const res = await api.request('GET', '/swagger/json')
  expect(res.status).toBe(200)
  return res.text()
}

/** What `todo-api openapi` prints, from the same build as the server under test. */
function printedDocument(): string {
  const env = {
    PATH: Bun.env.PATH ?? '',
    BETTER_AUTH_SECRET: TEST_SECRET,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'oa-')),
  }
  const run = Bun.spawnSync([...TODO_API, 'openapi'], { env, stdout: 'pipe', stderr: 'pipe' })
  expect(run.exitCode).toBe(0)
  return run.stdout.toString()
}

/** Follows `$ref`s into `components.schemas`. */
const resolve = (doc: Json, schema: Json): Json =>
  schema?.$ref ? resolve(doc, doc.components.schemas[schema.$ref.split('/').at(-1)]) : schema

const operations = (doc: Json): [string, string, Json][] =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods as Json).map(([method, op]) => [path, method, op] as [string, string, Json]),
  )

describe('the OpenAPI document', () => {
  test('is the same on every fetch, before and after traffic, and the same as `todo-api openapi` prints', async () => {
    const first = await fetchDocument()
    expect(await fetchDocument()).toBe(first)
    // Traffic on every route, valid and not: nothing it compiles or caches may change the document.
    const alice = await tokenFor('alice')
    await api.request('POST', '/api/alice/tasks', { token: alice, body: { title: 'x' } })
    for (const route of await routeTable()) {
      const path = route.pathFor('alice', 1)
      if (route.method === 'GET') await api.request(route.method, `${path}?nope=1`, { token: alice })
      else {
        await api.request(route.method, path, { token: alice, body: {} })
        await api.request(route.method, path, { token: alice, body: { nope: 1 } })
      }
    }
    expect(await fetchDocument()).toBe(first)
    expect(JSON.parse(printedDocument())).toEqual(JSON.parse(first))
  })

  test('describes every route of the route table, and nothing else', async () => {
    const doc = JSON.parse(await fetchDocument())
    const documented = operations(doc).map(([path, method]) => `${method.toUpperCase()} ${path}`)
    const routes = (await routeTable())
      .filter((r) => !r.path.startsWith('/swagger'))
      .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, '{$1}')}`)
    expect(documented.sort()).toEqual(routes.sort())
  })

  test('names its models and every body and response refers to one', async () => {
    const doc = JSON.parse(await fetchDocument())
    const names = Object.keys(doc.components.schemas)
    for (const name of ['Task', 'User', 'Session', 'Problem', 'Stats', 'TagCount', 'CreateTask', 'UpdateTask'])
      expect(names).toContain(name)
    for (const name of ['CompleteTask', 'Register', 'Login', 'Refresh', 'UpdateMe', 'ChangePassword'])
      expect(names).toContain(name)
    expect(doc.components.schemas.Problem.properties.code.enum).toEqual([...PROBLEM_CODES])
    // The session's user and the list's items are the named models, not copies.
    expect(doc.components.schemas.Session.properties.user).toEqual({ $ref: '#/components/schemas/User' })
    expect(doc.components.schemas.TaskList.items).toEqual({ $ref: '#/components/schemas/Task' })
    for (const [path, method, op] of operations(doc)) {
      const where = `${method} ${path}`
      if (op.requestBody) expect(op.requestBody.content['application/json'].schema.$ref, where).toBeString()
      for (const [status, response] of Object.entries(op.responses as Json)) {
        const content = (response as Json).content
        if (status === '204' || status === '304') expect(content, `${where} ${status}`).toBeUndefined()
        else expect(Object.values(content as Json)[0], `${where} ${status}`).toEqual({ schema: expect.any(Object) })
        for (const media of Object.values((content ?? {}) as Json))
          expect((media as Json).schema.$ref, `${where} ${status}`).toBeString()
      }
    }
  })

  test('has servers, a license, a default response everywhere, and `security: []` on public operations', async () => {
    const doc = JSON.parse(await fetchDocument())
    expect(doc.servers).toEqual([expect.objectContaining({ url: expect.any(String) })])
    expect(doc.info.license.name).toEqual(expect.any(String))
    expect(doc.security).toEqual([{ bearer: [] }])
    const routes = await routeTable()
    for (const [path, method, op] of operations(doc)) {
      const route = routes.find(
        (r) => r.method === method.toUpperCase() && r.path.replace(/:([^/]+)/g, '{$1}') === path,
      )
      expect(op.responses.default.content['application/problem+json'].schema).toEqual({
        $ref: '#/components/schemas/Problem',
      })
      expect(op.security, `${method} ${path}`).toEqual(route?.authenticated ? [{ bearer: [] }] : [])
      expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/)
    }
  })

  test('documents exactly the statuses each route declares, errors as problem+json with their headers', async () => {
    const doc = JSON.parse(await fetchDocument())
    for (const route of await routeTable()) {
      if (route.path.startsWith('/swagger')) continue
      const op = doc.paths[route.path.replace(/:([^/]+)/g, '{$1}')][route.method.toLowerCase()]
      expect(Object.keys(op.responses).sort(), describeRoute(route)).toEqual(
        [...Object.keys(route.responses), 'default'].sort(),
      )
      for (const [status, response] of Object.entries(op.responses as Json)) {
        const r = response as Json
        expect(r.headers, `${describeRoute(route)} ${status}`).toHaveProperty('X-Request-Id')
        if (Number(status) >= 400) expect(Object.keys(r.content)).toEqual(['application/problem+json'])
        if (status === '401') expect(r.headers).toHaveProperty('WWW-Authenticate')
        if (status === '429' || status === '503') expect(r.headers).toHaveProperty('Retry-After')
      }
    }
    // The one place a route in the past claimed a status it cannot produce.
    expect(Object.keys(doc.paths['/api/auth/me'].get.responses)).not.toContain('403')
    for (const route of ['register', 'login', 'refresh'])
      expect(Object.keys(doc.paths[`/api/auth/${route}`].post.responses)).toContain('503')
  })

  test('documents every list parameter with its allowed values, plain integer ids and the response headers', async () => {
    const doc = JSON.parse(await fetchDocument())
    const list = doc.paths['/api/{user_id}/tasks'].get
    const params = Object.fromEntries(list.parameters.map((p: Json) => [p.name, p]))
    const names = ['status', 'priority', 'tag', 'tag_mode', 'due_before', 'due_after', 'overdue', 'has_due', 'q', 'tz']
    for (const name of [...names, 'sort', 'order', 'limit', 'cursor']) {
      expect(params[name]?.description, name).toEqual(expect.any(String))
      expect(params[name]?.in).toBe('query')
    }
    expect(params.priority.schema.items).toMatchObject({ enum: ['low', 'medium', 'high'] })
    expect(params.sort.schema.enum).toEqual(expect.arrayContaining(['due_date', '-priority', 'completed_at']))
    expect(params.order.schema.enum).toEqual(['asc', 'desc'])
    expect(params.overdue.schema.type).toBe('boolean')
    expect(params.limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500 })
    expect(list.responses['200'].headers).toHaveProperty('Link')
    expect(doc.paths['/api/{user_id}/tasks'].post.responses['201'].headers).toHaveProperty('Location')
    const id = doc.paths['/api/{user_id}/tasks/{id}'].get.parameters.find((p: Json) => p.name === 'id')
    expect(id.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 2_147_483_647 })
    expect(id.schema.anyOf).toBeUndefined()
    const task = doc.components.schemas.Task
    for (const field of ['priority', 'tags', 'due_date', 'completed_at']) expect(task.required).toContain(field)
    const create = resolve(doc, doc.paths['/api/{user_id}/tasks'].post.requestBody.content['application/json'].schema)
    expect(create.properties.title).toMatchObject({ type: 'string', minLength: 1, maxLength: 255 })
    expect(create.additionalProperties).toBe(false)
  })

  test('a body is optional exactly where the route takes no body at all', async () => {
    const doc = JSON.parse(await fetchDocument())
    expect(doc.paths['/api/{user_id}/tasks/{id}/complete'].patch.requestBody.required).toBe(false)
    expect(doc.paths['/api/{user_id}/tasks'].post.requestBody.required).toBe(true)
    expect(doc.paths['/api/{user_id}/tasks/{id}'].patch.requestBody.required).toBe(true)
    const alice = await tokenFor('alice')
    const task = await createTask(api, alice, 'alice', { title: 'x' })
    for (const [path, method, op] of operations(doc))
      if (op.requestBody?.required === false) {
        const res = await api.request(method, path.replace('{user_id}', 'alice').replace('{id}', String(task.id)), {
          token: alice,
        })
        expect(res.status, `${method} ${path} without a body`).toBeLessThan(300)
      }
  })

  test('keeps validation-only annotations out of the schemas', async () => {
    const text = await fetchDocument()
    for (const keyword of ['errorMessage', '"trim"', 'x-param', 'x-not-found', 'x-optional-body', 'x-response-headers'])
      expect(text).not.toContain(keyword)
  })
})
