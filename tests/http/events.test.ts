import { beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { sharedDatabase } from '../support/database'
import { changeOf, type EventStream, openEvents } from '../support/events'
import { createTask, tasksOf } from '../support/tasks'

let api: TestApp
let alice: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

// Generous: on the binary over the test's PGlite socket no notification can cross connections,
// so the server polls the feed every second (see change-listener.ts), and a test that opens
// several streams waits for several polls.
const EVENT_MS = 10_000
setDefaultTimeout(30_000)

/** An open stream of alice's events, after its first comment (the server has registered it). */
async function stream(query = '', headers: Record<string, string> = {}, token: string | undefined = alice) {
  const events = await openEvents(api, `/api/alice/events${query}`, { token, headers })
  expect(events.response.status).toBe(200)
  expect(events.response.headers.get('content-type')).toStartWith('text/event-stream')
  expect((await events.next()).comment).toBe('connected')
  return events
}

async function feedSince(since: string) {
  const res = await api.request('GET', `/api/alice/changes?since=${since}`, { token: alice })
  return json<{ changes: unknown[]; next: string }>(res)
}

async function currentToken() {
  return (await json<{ next: string }>(await api.request('GET', '/api/alice/changes?limit=1', { token: alice }))).next
}

/** Changes until the one that carries the task titled `title`. */
async function untilTask(events: EventStream, title: string) {
  const seen = []
  for (;;) {
    const message = await events.nextEvent(EVENT_MS)
    const change = changeOf(message)
    expect(message.id).toBe(String(change.seq))
    seen.push(change)
    if (change.task?.title === title) return seen
  }
}

describe('the events stream', () => {
  test('a write shows up as an event carrying the same change as the feed, its id being the sync token', async () => {
    await createTask(api, alice, 'alice', { title: 'before' })
    const before = await currentToken()
    const events = await stream()
    await createTask(api, alice, 'alice', { title: 'Buy milk' })
    const message = await events.nextEvent(EVENT_MS)
    const change = changeOf(message)
    expect(change).toMatchObject({ type: 'task', op: 'upsert', task: { title: 'Buy milk' } })
    expect(message.id).toBe(String(change.seq))
    // The very change the feed has after the token the stream started from.
    const feed = await feedSince(before)
    expect(feed.changes[0]).toEqual(change)
    // Only new changes: "before" never came.
    const rest = await events.eventsWithin(300)
    expect(rest.map((m) => changeOf(m).task?.title)).not.toContain('before')
  })

  test('reconnecting with Last-Event-ID resumes with no gap and no duplicate', async () => {
    const first = await stream()
    await createTask(api, alice, 'alice', { title: 'one' })
    const seenFirst = await untilTask(first, 'one')
    // Whatever else the write changed (the list's counts) comes right after it.
    seenFirst.push(...(await first.eventsWithin(500)).map(changeOf))
    const lastId = String(seenFirst.at(-1)?.seq)
    await first.close()

    // Written while no stream was open.
    const two = await createTask(api, alice, 'alice', { title: 'two' })
    await tasksOf(api, alice, 'alice')({ id: two.id }).patch({ title: 'two, renamed' })
    await createTask(api, alice, 'alice', { title: 'three' })

    const resumed = await stream('', { 'last-event-id': lastId })
    const seenAfter = await untilTask(resumed, 'three')
    seenAfter.push(...(await resumed.eventsWithin(500)).map(changeOf))
    // Exactly what the feed holds after that id: nothing missing, nothing repeated.
    expect(seenAfter).toEqual((await feedSince(lastId)).changes as typeof seenAfter)
    const seqs = [...seenFirst, ...seenAfter].map((c) => c.seq)
    expect(new Set(seqs).size).toBe(seqs.length)
    expect(seenAfter.map((c) => c.task?.title).filter(Boolean)).toEqual(['two, renamed', 'three'])

    // ?since= does the same for a client that keeps the token itself; Last-Event-ID wins over it.
    const viaQuery = await stream(`?since=${lastId}`)
    expect((await untilTask(viaQuery, 'three')).map((c) => c.seq)).toEqual(
      seenAfter.slice(0, seenAfter.findIndex((c) => c.task?.title === 'three') + 1).map((c) => c.seq),
    )
    const both = await stream('?since=0', { 'last-event-id': lastId })
    expect(changeOf(await both.nextEvent()).seq).toBe(seenAfter[0]?.seq as number)
  })

  test('a token the feed does not know answers 410 before any stream; a malformed one 400', async () => {
    await createTask(api, alice, 'alice', { title: 'a' })
    const ahead = Number(await currentToken()) + 100
    await expectProblem(
      await api.request('GET', '/api/alice/events', { token: alice, headers: { 'last-event-id': String(ahead) } }),
      410,
      'sync_token_expired',
    )
    await expectProblem(
      await api.request('GET', `/api/alice/events?since=${ahead}`, { token: alice }),
      410,
      'sync_token_expired',
    )
    await expectProblem(
      await api.request('GET', '/api/alice/events', { token: alice, headers: { 'last-event-id': 'abc' } }),
      400,
      'validation_failed',
    )
    await expectProblem(
      await api.request('GET', '/api/alice/events?since=-1', { token: alice }),
      400,
      'validation_failed',
    )
  })

  test('another user is refused (403) and sees nothing of alice', async () => {
    const bob = await tokenFor('bob')
    await expectProblem(await api.request('GET', '/api/alice/events', { token: bob }), 403, 'forbidden')
    const bobs = await openEvents(api, '/api/me/events', { token: bob })
    expect(bobs.response.status).toBe(200)
    await createTask(api, alice, 'alice', { title: 'private' })
    expect(await bobs.eventsWithin(1500)).toEqual([])
  })
})

describe('stream tickets', () => {
  async function ticket(token = alice) {
    const res = await api.request('POST', '/api/auth/stream-ticket', { token })
    expect(res.status).toBe(201)
    const body = await json<{ ticket: string; expires_at: string }>(res)
    const ttl = Date.parse(body.expires_at) - Date.now()
    expect(ttl).toBeGreaterThan(50_000)
    expect(ttl).toBeLessThanOrEqual(61_000)
    return body.ticket
  }

  test('a ticket opens the stream once, without Authorization; the second use is a 401', async () => {
    const given = await ticket()
    const events = await stream(`?ticket=${given}`, {}, undefined)
    await createTask(api, alice, 'alice', { title: 'via ticket' })
    await untilTask(events, 'via ticket')
    const again = await api.request('GET', `/api/alice/events?ticket=${given}`)
    await expectProblem(again, 401, 'unauthorized')
    // The database holds only its hash.
    const { db } = (await sharedDatabase()).database
    const rows = await db.execute(sql`select ticket_hash from stream_tickets`)
    expect(JSON.stringify(rows)).not.toContain(given)
  })

  test('an expired ticket is a 401', async () => {
    const given = await ticket()
    const { db } = (await sharedDatabase()).database
    await db.execute(sql`update stream_tickets set expires_at = now() - interval '1 second'`)
    await expectProblem(await api.request('GET', `/api/alice/events?ticket=${given}`), 401, 'unauthorized')
  })

  test('a ticket opens nothing else: not as a bearer token, not as ?ticket= on another route', async () => {
    const given = await ticket()
    await expectProblem(await api.request('GET', `/api/alice/tasks?ticket=${given}`), 401, 'unauthorized')
    await expectProblem(
      await api.request('GET', '/api/alice/tasks', { headers: { authorization: `Bearer ${given}` } }),
      401,
      'unauthorized',
    )
    await expectProblem(await api.request('POST', `/api/auth/stream-ticket?ticket=${given}`), 401, 'unauthorized')
    // Still unused: those requests did not spend it.
    expect((await openEvents(api, `/api/alice/events?ticket=${given}`)).response.status).toBe(200)
  })

  test("a ticket names its user: alice's ticket does not open bob's stream", async () => {
    await tokenFor('bob')
    await api.request('GET', '/api/me/tasks', { token: await tokenFor('bob') })
    await expectProblem(await api.request('GET', `/api/bob/events?ticket=${await ticket()}`), 403, 'forbidden')
  })

  test('the ticket route needs a bearer token', async () => {
    await expectProblem(await api.request('POST', '/api/auth/stream-ticket'), 401, 'unauthorized')
  })
})

describe('limits and keep-alive', () => {
  test('the 11th open stream of a user is a 429 with Retry-After; closing one frees a slot', async () => {
    const open: EventStream[] = []
    for (let i = 0; i < 10; i++) open.push(await stream())
    const refused = await api.request('GET', '/api/alice/events', { token: alice })
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    await expectProblem(refused, 429, 'rate_limited')
    // Another user is not affected.
    expect((await openEvents(api, '/api/me/events', { token: await tokenFor('bob') })).response.status).toBe(200)
    await open[0]?.close()
    // The server learns of the closed connection asynchronously (over a socket).
    let status = 0
    for (let waited = 0; waited < 5000; waited += 50) {
      const res = await api.request('GET', '/api/alice/events', { token: alice })
      status = res.status
      await res.body?.cancel()
      if (status === 200) break
      await Bun.sleep(50)
    }
    expect(status).toBe(200)
  })

  test('a keep-alive comment arrives every EVENTS_HEARTBEAT', async () => {
    api = await makeApp({ env: { EVENTS_HEARTBEAT: '1' } })
    const events = await stream()
    const started = Date.now()
    expect(await events.next(3000)).toEqual({ comment: 'keep-alive' })
    expect(await events.next(3000)).toEqual({ comment: 'keep-alive' })
    expect(Date.now() - started).toBeLessThan(3500)
  })
})
