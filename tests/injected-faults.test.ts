import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { openPostgres } from '../src/db/client'
import { expectProblem, makeInProcessApp, tokenFor } from './support/app'

// Failures no environment variable can set up for a running server: a database that is gone
// after start-up, a dependency that throws. The binary meets the same ones in
// tests/deployment.test.ts, through a real proxy between it and PostgreSQL.

let alice: string
beforeEach(async () => {
  alice = await tokenFor('alice')
})

describe('503 database unreachable', async () => {
  // A real postgres.js client pointed at a port where nothing listens.
  const nowhere = await openPostgres('postgres://postgres@127.0.0.1:1/none', { connectTimeout: 2 })
  afterAll(() => nowhere.close())

  test('task routes answer 503 with Retry-After, fast', async () => {
    const down = await makeInProcessApp({ database: nowhere })
    const started = performance.now()
    for (const [method, path, body] of [
      ['GET', '/api/alice/tasks'],
      ['POST', '/api/alice/tasks', { title: 'x' }],
      ['PATCH', '/api/alice/tasks/1/complete'],
    ] as const) {
      const res = await down.request(method, path, { token: alice, body })
      const problem = await expectProblem(res, 503, 'service_unavailable')
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(problem.detail).not.toContain('127.0.0.1')
    }
    expect(performance.now() - started).toBeLessThan(5000)
  })

  test('/ready answers 503 while /health still answers 200', async () => {
    const down = await makeInProcessApp({ database: nowhere })
    await expectProblem(await down.request('GET', '/ready'), 503, 'service_unavailable')
    expect((await down.request('GET', '/health')).status).toBe(200)
  })
})

describe('500 unexpected errors', () => {
  test('answer a generic problem; the full error goes to the log only', async () => {
    const broken = await makeInProcessApp({
      deps: {
        tokenVerifier: {
          verify: () => {
            throw new Error('kaboom: internal detail 1234')
          },
        },
      },
    })
    const res = await broken.request('GET', '/api/alice/tasks', { token: alice })
    const problem = await expectProblem(res, 500, 'internal_error')
    expect(JSON.stringify(problem)).not.toContain('kaboom')
    const logged = (await broken.logs()).find((l) => l.msg === 'unhandled error')
    expect(JSON.stringify(logged)).toContain('kaboom: internal detail 1234')
  })
})
