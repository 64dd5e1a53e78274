import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { sweepExpiredKeys } from '../../src/modules/idempotency/service'
import { expectProblem, makeApp, type TestApp, tokenFor } from '../support/app'
import { sharedDatabase } from '../support/database'
import { dbRows } from '../support/lists'
import { createTask } from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

const HOUR_MS = 3600 * 1000
const key = () => `k-${crypto.randomUUID()}`
const send = (method: string, path: string, idempotencyKey: string | undefined, body?: unknown, token = alice) =>
  api.request(method, path, {
    token,
    body,
    headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
  })
const tasksOfUser = (user: string) =>
  dbRows<{ id: number; title: string; completed: boolean }>(
    sql`select id, title, completed from tasks where user_id = ${user} order by id`,
  )
const storedKeys = (user: string) =>
  dbRows<{ key: string; status: number | null }>(
    sql`select key, status from idempotency_keys where user_id = ${user} order by key`,
  )

/** Everything of an answer a client can tell apart, but the request id and the quota. */
async function answer(res: Response) {
  return {
    status: res.status,
    body: await res.text(),
    type: res.headers.get('content-type'),
    location: res.headers.get('location'),
    etag: res.headers.get('etag'),
  }
}

describe('Idempotency-Key', () => {
  test('a retried create gets the first answer again, marked replayed, and creates one task', async () => {
    const k = key()
    const first = await send('POST', '/api/alice/tasks', k, { title: 'Buy milk' })
    expect(first.status).toBe(201)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    const firstAnswer = await answer(first)
    const again = await send('POST', '/api/alice/tasks', k, { title: 'Buy milk' })
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(again.headers.get('x-request-id')).toBeTruthy()
    expect(await answer(again)).toEqual(firstAnswer)
    expect(firstAnswer.location).toMatch(/^\/api\/alice\/tasks\/\d+$/)
    expect(await tasksOfUser('alice')).toHaveLength(1)
    // `me` names the same user, so it is the same request.
    const viaMe = await send('POST', '/api/me/tasks', k, { title: 'Buy milk' })
    expect(viaMe.headers.get('idempotent-replayed')).toBe('true')
    expect(await answer(viaMe)).toEqual(firstAnswer)
    // Without a key, a request is not deduplicated.
    expect((await send('POST', '/api/alice/tasks', undefined, { title: 'Buy milk' })).status).toBe(201)
    expect(await tasksOfUser('alice')).toHaveLength(2)
  })

  test('the quoted form of the draft and the bare form name the same key', async () => {
    const first = await send('POST', '/api/alice/tasks', '"abc-1"', { title: 'one' })
    expect(first.status).toBe(201)
    const again = await send('POST', '/api/alice/tasks', 'abc-1', { title: 'one' })
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.json()).toEqual(await first.json())
    expect(await tasksOfUser('alice')).toHaveLength(1)
  })

  test('the same key with another body, path, method or query is a 422 and changes nothing', async () => {
    const k = key()
    const created = await send('POST', '/api/alice/tasks', k, { title: 'first' })
    expect(created.status).toBe(201)
    const task = (await created.json()) as { id: number }
    for (const [method, path, body] of [
      ['POST', '/api/alice/tasks', { title: 'second' }],
      ['POST', '/api/alice/tasks', { title: 'first', completed: true }],
      ['POST', '/api/alice/tasks?x=1', { title: 'first' }],
      ['PATCH', `/api/alice/tasks/${task.id}`, { title: 'first' }],
      ['DELETE', `/api/alice/tasks/${task.id}`, undefined],
    ] as const) {
      const problem = await expectProblem(await send(method, path, k, body), 422, 'idempotency_key_reused')
      expect(problem.detail).toContain('different request')
    }
    expect(await tasksOfUser('alice')).toEqual([{ id: task.id, title: 'first', completed: false }])
  })

  test('ten parallel first requests with one key create exactly one task', async () => {
    const k = key()
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => send('POST', '/api/alice/tasks', k, { title: 'once' })),
    )
    const statuses = answers.map((r) => r.status)
    const created = answers.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null)
    expect(created).toHaveLength(1)
    // The others got the first answer again, or were told to retry while it ran.
    for (const res of answers)
      if (res.status === 409) {
        await expectProblem(res, 409, 'idempotency_key_in_use')
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
      } else expect(res.status, String(statuses)).toBe(201)
    expect(await tasksOfUser('alice')).toHaveLength(1)
    const retry = await send('POST', '/api/alice/tasks', k, { title: 'once' })
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    expect(await retry.json()).toEqual(await (created[0] as Response).json())
  })

  test('a retry while the first request still runs is a 409 with Retry-After; an abandoned one is taken over', async () => {
    const k = key()
    // What a first request on another instance leaves while it runs: the key, no answer yet.
    await createTask(api, alice, 'alice', { title: 'makes alice exist' })
    const { database } = await sharedDatabase()
    const fingerprintOf = async () => {
      await send('POST', '/api/alice/tasks', k, { title: 'slow' })
      const [row] = await dbRows<{ fingerprint: string }>(
        sql`select fingerprint from idempotency_keys where user_id = 'alice' and key = ${k}`,
      )
      await database.db.execute(sql`delete from idempotency_keys where user_id = 'alice' and key = ${k}`)
      await database.db.execute(sql`delete from tasks where user_id = 'alice' and title = 'slow'`)
      return (row as { fingerprint: string }).fingerprint
    }
    const fingerprint = await fingerprintOf()
    await database.db.execute(
      sql`insert into idempotency_keys (user_id, key, fingerprint, expires_at) values ('alice', ${k}, ${fingerprint}, now() + interval '1 day')`,
    )
    const busy = await send('POST', '/api/alice/tasks', k, { title: 'slow' })
    await expectProblem(busy, 409, 'idempotency_key_in_use')
    expect(busy.headers.get('retry-after')).toBe('1')
    expect((await tasksOfUser('alice')).map((t) => t.title)).toEqual(['makes alice exist'])
    // Started longer ago than the request deadline (10 s): its request can no longer answer.
    await database.db.execute(
      sql`update idempotency_keys set created_at = now() - interval '11 seconds' where user_id = 'alice' and key = ${k}`,
    )
    const takenOver = await send('POST', '/api/alice/tasks', k, { title: 'slow' })
    expect(takenOver.status).toBe(201)
    expect(takenOver.headers.get('idempotent-replayed')).toBeNull()
    expect((await tasksOfUser('alice')).map((t) => t.title)).toEqual(['makes alice exist', 'slow'])
  })

  test("one user's key never touches another user's requests", async () => {
    const k = key()
    const a = await send('POST', '/api/alice/tasks', k, { title: 'same' })
    const b = await send('POST', '/api/bob/tasks', k, { title: 'same' }, bob)
    expect([a.status, b.status]).toEqual([201, 201])
    expect(b.headers.get('idempotent-replayed')).toBeNull()
    expect(await tasksOfUser('alice')).toHaveLength(1)
    expect(await tasksOfUser('bob')).toHaveLength(1)
    // Bob's different request with Alice's key is no conflict either.
    expect((await send('POST', '/api/bob/tasks', k, { title: 'same' }, bob)).headers.get('idempotent-replayed')).toBe(
      'true',
    )
    const bobOther = await send('POST', '/api/bob/tasks', key(), { title: 'other' }, bob)
    expect(bobOther.status).toBe(201)
    // Another user's path with one's own key is refused before any key is looked at.
    await expectProblem(await send('POST', '/api/bob/tasks', k, { title: 'same' }), 403, 'forbidden')
  })

  test('PATCH and DELETE replay their first answer', async () => {
    const task = await createTask(api, alice, 'alice', { title: 'original' })
    const patchKey = key()
    const patched = await send('PATCH', `/api/alice/tasks/${task.id}`, patchKey, { title: 'renamed' })
    expect(patched.status).toBe(200)
    const patchedAnswer = await answer(patched)
    // Changed meanwhile by another request: the retry still answers what the first one did.
    await send('PATCH', `/api/alice/tasks/${task.id}`, undefined, { title: 'changed since' })
    const patchedAgain = await send('PATCH', `/api/alice/tasks/${task.id}`, patchKey, { title: 'renamed' })
    expect(patchedAgain.headers.get('idempotent-replayed')).toBe('true')
    expect(await answer(patchedAgain)).toEqual(patchedAnswer)
    expect((await tasksOfUser('alice'))[0]?.title).toBe('changed since')

    const deleteKey = key()
    const deleted = await send('DELETE', `/api/alice/tasks/${task.id}`, deleteKey)
    expect(deleted.status).toBe(204)
    const deletedAgain = await send('DELETE', `/api/alice/tasks/${task.id}`, deleteKey)
    expect(deletedAgain.status).toBe(204)
    expect(deletedAgain.headers.get('idempotent-replayed')).toBe('true')
    expect(await deletedAgain.text()).toBe('')
    // Without the key, the second delete meets a task that is gone.
    await expectProblem(await send('DELETE', `/api/alice/tasks/${task.id}`, undefined), 404, 'not_found')
  })

  test('a retried conditional write gets its first answer, not a 412 for the version it made', async () => {
    const task = await createTask(api, alice, 'alice', { title: 'v1' })
    const k = key()
    const patch = () =>
      api.request('PATCH', `/api/alice/tasks/${task.id}`, {
        token: alice,
        body: { title: 'v2' },
        headers: { 'idempotency-key': k, 'if-match': `"${task.version}"` },
      })
    const first = await patch()
    expect(first.status).toBe(200)
    const firstAnswer = await answer(first)
    expect(firstAnswer.etag).not.toBe(`"${task.version}"`)
    const again = await patch()
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await answer(again)).toEqual(firstAnswer)
    // Without the key, the same request now fails its precondition.
    const unkeyed = await api.request('PATCH', `/api/alice/tasks/${task.id}`, {
      token: alice,
      body: { title: 'v2' },
      headers: { 'if-match': `"${task.version}"` },
    })
    expect(unkeyed.status).toBe(412)
  })

  test('a 4xx answer of the handler is kept too', async () => {
    const k = key()
    await createTask(api, alice, 'alice', { title: 'makes alice exist' })
    const missing = await send('PATCH', '/api/alice/tasks/999999', k, { title: 'x' })
    const first = await answer(missing)
    expect(first.status).toBe(404)
    const again = await send('PATCH', '/api/alice/tasks/999999', k, { title: 'x' })
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await answer(again)).toEqual(first)
    expect(first.type).toStartWith('application/problem+json')
  })

  test('a 5xx answer is not kept: the key is given up and a retry runs again', async () => {
    // A fault in the database itself: an insert of this title fails with an error the API does
    // not expect (500), until the fault is removed.
    const { database } = await sharedDatabase()
    const title = `fault-${crypto.randomUUID().slice(0, 8)}`
    await database.db.execute(
      sql.raw(`create or replace function idempotency_test_fault() returns trigger language plpgsql as $$
        begin
          if new.title = '${title}' then raise exception 'injected fault'; end if;
          return new;
        end $$`),
    )
    await database.db.execute(
      sql.raw(
        'create trigger idempotency_test_fault before insert on tasks for each row execute function idempotency_test_fault()',
      ),
    )
    const k = key()
    try {
      await expectProblem(await send('POST', '/api/alice/tasks', k, { title }), 500, 'internal_error')
      expect(await storedKeys('alice')).toEqual([])
    } finally {
      await database.db.execute(sql.raw('drop trigger idempotency_test_fault on tasks'))
      await database.db.execute(sql.raw('drop function idempotency_test_fault()'))
    }
    const retried = await send('POST', '/api/alice/tasks', k, { title })
    expect(retried.status).toBe(201)
    expect(retried.headers.get('idempotent-replayed')).toBeNull()
    expect((await tasksOfUser('alice')).map((t) => t.title)).toEqual([title])
    expect(await storedKeys('alice')).toEqual([{ key: k, status: 201 }])
  })

  test('a key past its lifetime is swept, and the same key then runs anew', async () => {
    const k = key()
    expect((await send('POST', '/api/alice/tasks', k, { title: 'day one' })).status).toBe(201)
    const { database } = await sharedDatabase()
    // A day later, not yet: the key lives 24 hours.
    await sweepExpiredKeys(database.db, new Date(Date.now() + 23 * HOUR_MS))
    expect(await storedKeys('alice')).toEqual([{ key: k, status: 201 }])
    expect((await send('POST', '/api/alice/tasks', k, { title: 'day one' })).headers.get('idempotent-replayed')).toBe(
      'true',
    )
    expect(await sweepExpiredKeys(database.db, new Date(Date.now() + 25 * HOUR_MS))).toBeGreaterThanOrEqual(1)
    expect(await storedKeys('alice')).toEqual([])
    const anew = await send('POST', '/api/alice/tasks', k, { title: 'day one' })
    expect(anew.status).toBe(201)
    expect(anew.headers.get('idempotent-replayed')).toBeNull()
    expect(await tasksOfUser('alice')).toHaveLength(2)
  })

  test('an expired key that is not swept yet is not replayed either', async () => {
    const k = key()
    expect((await send('POST', '/api/alice/tasks', k, { title: 'old' })).status).toBe(201)
    const { database } = await sharedDatabase()
    await database.db.execute(
      sql`update idempotency_keys set expires_at = now() - interval '1 second' where user_id = 'alice' and key = ${k}`,
    )
    const anew = await send('POST', '/api/alice/tasks', k, { title: 'different now' })
    expect(anew.status).toBe(201)
    expect(anew.headers.get('idempotent-replayed')).toBeNull()
    expect(await tasksOfUser('alice')).toHaveLength(2)
  })

  test('the sweep deletes in batches and leaves live keys alone', async () => {
    await createTask(api, alice, 'alice', { title: 'makes alice exist' })
    const { database } = await sharedDatabase()
    await database.db.execute(
      sql`insert into idempotency_keys (user_id, key, fingerprint, status, expires_at)
          select 'alice', 'old-' || n, 'f', 201, now() - interval '1 minute' from generate_series(1, 25) n`,
    )
    await database.db.execute(
      sql`insert into idempotency_keys (user_id, key, fingerprint, status, expires_at) values ('alice', 'live', 'f', 201, now() + interval '1 hour')`,
    )
    expect(await sweepExpiredKeys(database.db, new Date(), 10)).toBe(25)
    expect(await storedKeys('alice')).toEqual([{ key: 'live', status: 201 }])
  })

  test('a malformed key is a 400 and nothing is created', async () => {
    for (const bad of ['', '""', 'x'.repeat(256), 'naïve', 'tab\there', '"unterminated', '"a"b"']) {
      const problem = await expectProblem(
        await send('POST', '/api/alice/tasks', bad, { title: 't' }),
        400,
        'validation_failed',
      )
      expect(problem.errors?.[0]?.field).toBe('Idempotency-Key')
    }
    expect((await send('POST', '/api/alice/tasks', 'x'.repeat(255), { title: 't' })).status).toBe(201)
    expect(await tasksOfUser('alice')).toHaveLength(1)
  })

  test('safe methods and /api/auth routes ignore the header', async () => {
    const k = key()
    const first = await send('GET', '/api/alice/tasks', k)
    const second = await send('GET', '/api/alice/tasks', k)
    expect([first.status, second.status]).toEqual([200, 200])
    expect(second.headers.get('idempotent-replayed')).toBeNull()
    // An /api/auth route does not read the key at all: even a malformed one changes nothing.
    for (const name of ['Ada', 'Ada']) {
      const me = await send('PATCH', '/api/auth/me', '', { name })
      expect(me.status).toBe(200)
      expect(me.headers.get('idempotent-replayed')).toBeNull()
    }
  })

  test('CORS lets browsers send the key and read the replay marker', async () => {
    const res = await api.request('OPTIONS', '/api/alice/tasks', {
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'idempotency-key, if-match',
      },
    })
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase()
    for (const name of ['idempotency-key', 'if-match', 'if-none-match', 'last-event-id'])
      expect(allowed).toContain(name)
    const created = await api.request('POST', '/api/alice/tasks', {
      token: alice,
      body: { title: 'cors' },
      headers: { origin: 'http://localhost:3000' },
    })
    const exposed = (created.headers.get('access-control-expose-headers') ?? '').toLowerCase()
    expect(exposed).toContain('idempotent-replayed')
    expect(exposed).toContain('etag')
  })
})
