import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { makeInProcessApp, TEST_SECRET, type TestApp, tokenFor } from '../support/app'
import { stopAfterTest } from '../support/cleanup'
import { backend, sharedDatabase } from '../support/database'
import { changeOf, type EventStream, openEvents } from '../support/events'
import { type RunningServer, startServer, TcpProxy } from '../support/processes'
import { createTask } from '../support/tasks'

// Live updates beyond one request path: changes committed by another server process, or by
// another connection altogether, reach a stream; a listener connection that drops and comes
// back loses nothing.

interface Instance {
  server: RunningServer
  api: TestApp
}

/**
 * A real server process (the binary under TEST_BINARY) on the run's Postgres database, or on an
 * embedded database of its own (PGlite runs).
 */
async function instance(env: Record<string, string> = {}): Promise<Instance> {
  const { url } = await sharedDatabase()
  const server = await startServer({
    PORT: '0',
    BETTER_AUTH_SECRET: TEST_SECRET,
    RATE_LIMIT_PER_MINUTE: '0',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'todo-api-events-')),
    ...(backend === 'postgres' && { DATABASE_URL: url as string }),
    ...env,
  })
  stopAfterTest(async () => {
    server.proc.kill()
    await server.proc.exited
  })
  const origin = `http://127.0.0.1:${server.port}`
  const request: TestApp['request'] = (method, path, { token, body, headers = {} } = {}) =>
    fetch(`${origin}${path}`, {
      method,
      headers: {
        ...headers,
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  // Only `request` is used by the helpers below.
  return { server, api: { request } as TestApp }
}

async function write({ api }: Instance, token: string, title: string) {
  const res = await api.request('POST', '/api/alice/tasks', { token, body: { title } })
  expect(res.status).toBe(201)
}

async function titlesWithin(events: EventStream, count: number, ms = 10_000): Promise<string[]> {
  const titles: string[] = []
  const deadline = Date.now() + ms
  while (titles.length < count) {
    const change = changeOf(await events.nextEvent(Math.max(deadline - Date.now(), 1)))
    if (change.task) titles.push(change.task.title)
  }
  return titles
}

async function openStream(api: TestApp, token: string) {
  const events = await openEvents(api, '/api/alice/events', { token })
  expect(events.response.status).toBe(200)
  expect((await events.next()).comment).toBe('connected')
  return events
}

describe('a change committed elsewhere reaches the stream', () => {
  test('a write made on another database connection, not through the app, reaches a stream (both databases)', async () => {
    const api = await makeInProcessApp()
    const alice = await tokenFor('alice')
    const task = await createTask(api, alice, 'alice', { title: 'before' })
    const events = await openStream(api, alice)
    const { db } = (await sharedDatabase()).database
    await db.execute(sql`update tasks set title = 'changed underneath' where id = ${task.id}`)
    expect(await titlesWithin(events, 1)).toEqual(['changed underneath'])
  })
})

describe('a stream outlives the request deadline and the idle timeout', () => {
  test('with REQUEST_TIMEOUT=1 (connections idle for 11 s are closed) a silent stream stays open and still delivers', async () => {
    const server = await instance({ REQUEST_TIMEOUT: '1', EVENTS_HEARTBEAT: '60' })
    const alice = await tokenFor('alice')
    const events = await openStream(server.api, alice)
    // Nothing at all crosses the connection meanwhile: no event, no keep-alive.
    await Bun.sleep(13_000)
    await write(server, alice, 'after 13 s of silence')
    expect(await titlesWithin(events, 1)).toEqual(['after 13 s of silence'])
  }, 40_000)
})

describe.if(backend === 'postgres')('several instances on one PostgreSQL database', () => {
  test('a write through instance 1 reaches a stream held by instance 2, and the other way round', async () => {
    const [one, two] = await Promise.all([instance(), instance()])
    const alice = await tokenFor('alice')
    const onTwo = await openStream(two.api, alice)
    const onOne = await openStream(one.api, alice)
    await write(one, alice, 'written on 1')
    expect(await titlesWithin(onTwo, 1)).toEqual(['written on 1'])
    await write(two, alice, 'written on 2')
    expect(await titlesWithin(onOne, 2)).toEqual(['written on 1', 'written on 2'])
  }, 60_000)

  test('the listener connection cut and restored: every write made meanwhile arrives, once, in order', async () => {
    const { url } = await sharedDatabase()
    const target = new URL(url as string)
    const proxy = new TcpProxy({ hostname: target.hostname, port: Number(target.port || 5432) })
    proxy.start()
    stopAfterTest(() => proxy.stop())
    const direct = new URL(url as string)
    direct.hostname = '127.0.0.1'
    direct.port = String(proxy.port)
    // Instance 2 listens through the proxy; its pool and instance 1 reach Postgres directly.
    const [one, two] = await Promise.all([instance(), instance({ DATABASE_URL_DIRECT: direct.toString() })])
    const alice = await tokenFor('alice')
    const events = await openStream(two.api, alice)
    await write(one, alice, 'before the cut')
    expect(await titlesWithin(events, 1)).toEqual(['before the cut'])

    proxy.cut()
    for (const title of ['while cut 1', 'while cut 2', 'while cut 3']) await write(one, alice, title)
    // The listener is down: nothing can have told instance 2.
    const meanwhile = (await events.eventsWithin(1500)).map(changeOf)
    expect(meanwhile.filter((c) => c.task?.title.startsWith('while cut'))).toEqual([])
    proxy.restore()
    expect(await titlesWithin(events, 3, 20_000)).toEqual(['while cut 1', 'while cut 2', 'while cut 3'])
    await write(one, alice, 'after')
    expect(await titlesWithin(events, 1)).toEqual(['after'])
    expect(two.server.lines.some((l) => l.includes('change listener connected again'))).toBe(true)
  }, 60_000)

  test('behind a transaction pooler without a direct URL (no LISTEN), streams poll the feed: writes still arrive', async () => {
    // DATABASE_POOLER=transaction: this instance takes its database for PgBouncer in
    // transaction mode, which does not carry LISTEN.
    const [one, two] = await Promise.all([instance(), instance({ DATABASE_POOLER: 'transaction' })])
    const alice = await tokenFor('alice')
    const events = await openStream(two.api, alice)
    await write(one, alice, 'polled')
    expect(await titlesWithin(events, 1, 5000)).toEqual(['polled'])
    expect(two.server.lines.filter((l) => l.includes('poll the change feed every second')).length).toBe(1)
  }, 60_000)

  test("the listener's backend terminated (pg_terminate_backend): writes right after it still arrive", async () => {
    const { url } = await sharedDatabase()
    const [one, two] = await Promise.all([instance(), instance()])
    const alice = await tokenFor('alice')
    const events = await openStream(two.api, alice)
    await write(one, alice, 'first')
    expect(await titlesWithin(events, 1)).toEqual(['first'])
    const admin = postgres(url as string, { max: 1, onnotice: () => {} })
    try {
      const killed = await admin`
        select pg_terminate_backend(pid) as done from pg_stat_activity
        where application_name = 'todo-api listener' and datname = current_database()`
      expect(killed.length).toBe(2)
    } finally {
      await admin.end()
    }
    for (const title of ['after kill 1', 'after kill 2']) await write(one, alice, title)
    expect(await titlesWithin(events, 2, 20_000)).toEqual(['after kill 1', 'after kill 2'])
  }, 60_000)
})
