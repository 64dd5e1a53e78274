import { beforeEach, describe, expect, test } from 'bun:test'
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../src/http/json-depth'
import { expectProblem, json, makeApp, type TestApp, testConfig, tokenFor } from '../support/app'
import { hostileBodies } from '../support/hostile-bodies'
import type { TaskOut } from '../support/tasks'

let api: TestApp
let alice: string
beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

const nested = (depth: number, inner = '"a"') => '['.repeat(depth) + inner + ']'.repeat(depth)

describe('nesting depth', () => {
  test(`a body nested ${MAX_JSON_DEPTH + 1} levels deep is a 400 naming the limit, on every route`, async () => {
    const arrays = `{"title":"x","tags":[${nested(MAX_JSON_DEPTH - 1)}]}`
    const objects = `${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`
    for (const [method, path, body] of [
      ['POST', '/api/auth/login', arrays],
      ['POST', '/api/auth/register', objects],
      ['POST', '/api/alice/tasks', arrays],
      ['PATCH', '/api/alice/tasks/1', objects],
      ['PATCH', '/api/alice/tasks/1/complete', arrays],
    ] as const) {
      const problem = await expectProblem(
        await api.request(method, path, { token: alice, body }),
        400,
        'validation_failed',
      )
      expect(problem.detail).toBe(`The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`)
      expect(problem.errors).toEqual([{ field: 'body', message: `is nested more than ${MAX_JSON_DEPTH} levels deep` }])
    }
  })

  test(`${MAX_JSON_DEPTH} levels are read and left to the schema`, async () => {
    // The object is level 1 and the tags array level 2: a tag nested 30 levels more is at 32.
    const body = `{"title":"x","tags":[${nested(MAX_JSON_DEPTH - 2)}]}`
    const problem = await expectProblem(
      await api.request('POST', '/api/alice/tasks', { token: alice, body }),
      400,
      'validation_failed',
    )
    expect(problem.errors?.map((e) => e.field)).toEqual(['tags.0'])
  })

  test(`the scan allows ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1}`, async () => {
    // No route takes values nested that deep, so the limit is checked here directly too.
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false)
    expect(nestedDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true)
  })

  test('brackets and escaped quotes inside strings do not count', async () => {
    const title = `${'['.repeat(100)}\\"${'{'.repeat(100)}\\\\`
    const res = await api.request('POST', '/api/alice/tasks', { token: alice, body: `{"title":"${title}"}` })
    expect(res.status).toBe(201)
    expect((await json<TaskOut>(res)).title).toBe(JSON.parse(`"${title}"`))
    // An escaped backslash ends before the quote: what follows is outside the string again.
    expect(nestedDeeperThan(`["\\\\"${'['.repeat(40)}`, MAX_JSON_DEPTH)).toBe(true)
    expect(nestedDeeperThan(`["\\"${'['.repeat(40)}"]`, MAX_JSON_DEPTH)).toBe(false)
  })
})

const LIMIT = testConfig().bodyLimitBytes

describe('hostile bodies at the size limit', () => {
  // Each one used to cost from 0.1 s to 20 s of CPU (or a 500 after gigabytes of memory);
  // a few milliseconds is what parsing and refusing 64 KiB takes. The budget leaves room
  // for a loaded machine.
  const CPU_BUDGET_MS = 50
  const routes = [
    ['POST', '/api/auth/login'],
    ['POST', '/api/auth/register'],
    ['POST', '/api/auth/refresh'],
    ['POST', '/api/alice/tasks'],
    ['PUT', '/api/alice/tasks/1'],
    ['PATCH', '/api/alice/tasks/1/complete'],
  ] as const

  for (const { name, body } of hostileBodies(LIMIT))
    test(`${name}: a 4xx on every route within ${CPU_BUDGET_MS} ms of CPU`, async () => {
      // The first request of a route compiles its handler: not part of what is measured.
      for (const [method, path] of routes) await (await api.request(method, path, { token: alice, body: '{}' })).text()
      const answers: string[] = []
      for (const [method, path] of routes) {
        const before = await api.serverCpuMs()
        const res = await api.request(method, path, { token: alice, body })
        await res.text()
        const ms = (await api.serverCpuMs()) - before
        const ok = res.status >= 400 && res.status < 500 && ms <= CPU_BUDGET_MS
        if (!ok) answers.push(`${method} ${path}: ${res.status} after ${ms.toFixed(0)} ms of CPU`)
      }
      expect(answers).toEqual([])
    })
})
