import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { purgeTombstones } from '../../src/modules/sync/service'
import { expectProblem, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { backend, sharedDatabase } from '../support/database'
import { createList, dbRows } from '../support/lists'
import { createTask, tasksOf } from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

interface Change {
  type: 'task' | 'list'
  op: 'upsert' | 'delete'
  id: number
  seq: number
  task?: { id: number; title: string; version: number }
  list?: { id: number; name: string; version: number }
  reason?: string
}
interface Feed {
  changes: Change[]
  next: string
  has_more: boolean
}

async function changes(query = '', token = alice, user = 'alice'): Promise<Feed> {
  const res = await api.request('GET', `/api/${user}/changes${query}`, { token })
  expect(res.status).toBe(200)
  return json<Feed>(res)
}

/** Follows `next` while `has_more`, as a client does. */
async function drain(
  since: string | undefined,
  limit: number,
): Promise<{ all: Change[]; next: string; pages: number }> {
  const all: Change[] = []
  let token = since
  for (let pages = 1; ; pages++) {
    const page = await changes(`?limit=${limit}${token === undefined ? '' : `&since=${token}`}`)
    all.push(...page.changes)
    token = page.next
    if (!page.has_more) return { all, next: page.next, pages }
  }
}

const summary = (feed: Change[]) => feed.map((c) => `${c.type}:${c.op}:${c.task?.title ?? c.list?.name ?? c.reason}`)

describe('the change feed', () => {
  test('a first sync gives every list and task there is, oldest change first, and a token', async () => {
    const a = await createTask(api, alice, 'alice', { title: 'a' })
    await createTask(api, alice, 'alice', { title: 'b' })
    await createTask(api, bob, 'bob', { title: "bob's" })
    const feed = await changes()
    // Creating a task changes its list's counts: the Inbox's latest state comes after both.
    expect(summary(feed.changes)).toEqual(['task:upsert:a', 'task:upsert:b', 'list:upsert:Inbox'])
    expect(feed.has_more).toBe(false)
    const inbox = feed.changes[2]?.list as { version: number } & Record<string, unknown>
    expect(inbox).toMatchObject({ open_count: 2, version: Number(feed.next) })
    expect(feed.changes[0]?.task).toMatchObject({ id: a.id, version: feed.changes[0]?.seq })
    // Nothing changed since: nothing to say, and the same token.
    expect(await changes(`?since=${feed.next}`)).toEqual({ changes: [], next: feed.next, has_more: false })
  })

  test('after a token: what was created, changed and deleted since, each once in its latest state', async () => {
    const kept = await createTask(api, alice, 'alice', { title: 'kept' })
    const changed = await createTask(api, alice, 'alice', { title: 'before' })
    const errands = await createList(api, alice, 'alice', { name: 'Errands' })
    const { next } = await changes()
    await tasksOf(api, alice, 'alice')({ id: changed.id }).patch({ title: 'after' })
    await tasksOf(api, alice, 'alice')({ id: changed.id }).patch({ title: 'after again' })
    const added = await createTask(api, alice, 'alice', { title: 'added' })
    expect((await api.request('DELETE', `/api/alice/lists/${errands.id}`, { token: alice })).status).toBe(204)
    const feed = await changes(`?since=${next}`)
    expect(summary(feed.changes)).toEqual([
      'task:upsert:after again',
      'task:upsert:added',
      'list:upsert:Inbox',
      'list:delete:deleted',
    ])
    expect(feed.changes.map((c) => c.id)).toEqual([changed.id, added.id, expect.any(Number), errands.id])
    expect(feed.changes.some((c) => c.type === 'task' && c.id === kept.id)).toBe(false)
    const seqs = feed.changes.map((c) => c.seq)
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y))
    expect(feed.next).toBe(String(seqs.at(-1)))
  })

  test('pages: following next while has_more gives each change once, in order, whatever the page size', async () => {
    const { next: start } = await changes()
    for (let i = 0; i < 7; i++) await createTask(api, alice, 'alice', { title: `t${i}` })
    const whole = await changes(`?since=${start}`)
    for (const limit of [1, 2, 3]) {
      const { all, next, pages } = await drain(start, limit)
      expect(all).toEqual(whole.changes)
      expect(next).toBe(whole.next)
      expect(pages).toBe(Math.ceil(whole.changes.length / limit))
    }
    // A first sync pages the same way.
    const first = await drain(undefined, 3)
    expect(first.all.map((c) => c.id)).toEqual((await changes()).changes.map((c) => c.id))
  })

  test("nobody sees another user's changes, and another user's path is a 403", async () => {
    await createTask(api, alice, 'alice', { title: 'private' })
    const feed = await changes('', bob, 'bob')
    expect(summary(feed.changes)).toEqual(['list:upsert:Inbox'])
    await expectProblem(await api.request('GET', '/api/alice/changes', { token: bob }), 403, 'forbidden')
    await expectProblem(await api.request('GET', '/api/alice/changes'), 401, 'unauthorized')
  })

  test('a token that is malformed is a 400; one never issued (ahead of the feed) is a 410', async () => {
    const { next } = await changes()
    for (const bad of ['abc', '-1', '1.5', '01', '99999999999', ''])
      await expectProblem(
        await api.request('GET', `/api/alice/changes?since=${encodeURIComponent(bad)}`, { token: alice }),
        400,
        'validation_failed',
      )
    await expectProblem(
      await api.request('GET', `/api/alice/changes?since=${next}&since=${next}`, { token: alice }),
      400,
      'validation_failed',
    )
    await expectProblem(
      await api.request('GET', `/api/alice/changes?since=${Number(next) + 1}`, { token: alice }),
      410,
      'sync_token_expired',
    )
  })

  test('once tombstones older than a token are purged, the token is a 410 and a fresh sync works', async () => {
    const errands = await createList(api, alice, 'alice', { name: 'Errands' })
    const { next: old } = await changes()
    expect((await api.request('DELETE', `/api/alice/lists/${errands.id}`, { token: alice })).status).toBe(204)
    const { next: recent } = await changes(`?since=${old}`)
    const { database } = await sharedDatabase()
    expect(await purgeTombstones(database.db, new Date(Date.now() + 60_000))).toBe(1)
    expect(await dbRows(sql`select * from tombstones`)).toEqual([])
    await expectProblem(
      await api.request('GET', `/api/alice/changes?since=${old}`, { token: alice }),
      410,
      'sync_token_expired',
    )
    // A token from after the purged tombstone still works: nothing was lost for it.
    expect((await changes(`?since=${recent}`)).changes).toEqual([])
    expect(summary((await changes()).changes)).toEqual(['list:upsert:Inbox'])
  })

  test('purging tombstones leaves younger ones and other users alone', async () => {
    const a = await createList(api, alice, 'alice', { name: 'A' })
    const b = await createList(api, bob, 'bob', { name: 'B' })
    await api.request('DELETE', `/api/alice/lists/${a.id}`, { token: alice })
    await api.request('DELETE', `/api/bob/lists/${b.id}`, { token: bob })
    const { database } = await sharedDatabase()
    await database.db.execute(
      sql`update tombstones set deleted_at = now() - interval '100 days' where user_id = 'alice'`,
    )
    expect(await purgeTombstones(database.db, new Date(Date.now() - 90 * 86_400_000))).toBe(1)
    expect(await dbRows(sql`select user_id from tombstones`)).toEqual([{ user_id: 'bob' }])
  })
})

describe('the counter', () => {
  test('after statements that change many rows at once, it is the highest number any of them drew', async () => {
    const work = await createList(api, alice, 'alice', { name: 'Work' })
    for (let i = 0; i < 30; i++) await createTask(api, alice, 'alice', { title: `t${i}`, list_id: work.id })
    const { next: before } = await changes()
    // One statement moves all 30 (and rewrites their outlines), then the list goes.
    expect((await api.request('DELETE', `/api/alice/lists/${work.id}?tasks=move`, { token: alice })).status).toBe(204)
    const [row] = await dbRows<{ counter: number; highest: number }>(sql`
      select u.sync_seq as counter, greatest(
        (select max(version) from tasks where user_id = u.id),
        (select max(version) from lists where user_id = u.id),
        (select max(seq) from tombstones where user_id = u.id)) as highest
      from users u where u.id = 'alice'`)
    expect(row?.counter).toBe(row?.highest as number)
    const feed = await changes(`?since=${before}`)
    expect(feed.next).toBe(String(row?.counter))
    expect(feed.changes.filter((c) => c.type === 'task')).toHaveLength(30)
    expect(summary(feed.changes.filter((c) => c.type === 'list'))).toEqual(['list:upsert:Inbox', 'list:delete:deleted'])
  })
})

describe('gapless under concurrency', () => {
  // Two writers of one user and a reader, interleaved by hand on separate connections. If the
  // second writer could draw its number and commit while the first still ran, a reader in
  // between would take the second's number as its token and never see the first's change.
  test.skipIf(backend !== 'postgres')(
    'a second writer waits for the first to commit; a reader in between sees neither, then both, in order',
    async () => {
      const t1 = await createTask(api, alice, 'alice', { title: 't1' })
      const t2 = await createTask(api, alice, 'alice', { title: 't2' })
      const { next: start } = await changes()
      const { url } = await sharedDatabase()
      const a = postgres(url as string, { max: 1, onnotice: () => {} })
      const b = postgres(url as string, { max: 1, onnotice: () => {} })
      const watch = postgres(url as string, { max: 1, onnotice: () => {} })
      try {
        const aTx = await a.reserve()
        const bTx = await b.reserve()
        await aTx`begin`
        await aTx`update tasks set title = 'by A' where id = ${t1.id}`
        await bTx`begin`
        const [{ pid } = { pid: 0 }] = await bTx`select pg_backend_pid() as pid`
        const bWrite = bTx`update tasks set title = 'by B' where id = ${t2.id}`.execute()
        // B is now waiting for A's lock on alice's counter, not running ahead of it.
        for (let i = 0; ; i++) {
          const [row] = await watch`select wait_event_type from pg_stat_activity where pid = ${pid}`
          if (row?.wait_event_type === 'Lock') break
          if (i > 500) throw new Error('writer B never waited for writer A')
          await Bun.sleep(10)
        }
        expect(await changes(`?since=${start}`)).toEqual({ changes: [], next: start, has_more: false })
        await aTx`commit`
        await bWrite
        const between = await changes(`?since=${start}`)
        expect(summary(between.changes)).toEqual(['task:upsert:by A'])
        await bTx`commit`
        const after = await changes(`?since=${between.next}`)
        expect(summary(after.changes)).toEqual(['task:upsert:by B'])
        expect(after.changes[0]?.seq).toBeGreaterThan(between.changes[0]?.seq as number)
        aTx.release()
        bTx.release()
      } finally {
        await Promise.all([a.end(), b.end(), watch.end()])
      }
    },
  )

  test('many parallel writers: a reader polling throughout ends with every change, none twice', async () => {
    const { next: start } = await changes()
    const writes = Array.from({ length: 30 }, (_, i) => createTask(api, alice, 'alice', { title: `w${i}` }))
    const seen = new Map<string, number>()
    let token = start
    let done = false
    const all = Promise.all(writes).then(() => {
      done = true
    })
    while (!done) {
      const page = await changes(`?since=${token}`)
      for (const c of page.changes)
        seen.set(`${c.type}:${c.id}:${c.seq}`, (seen.get(`${c.type}:${c.id}:${c.seq}`) ?? 0) + 1)
      token = page.next
    }
    await all
    const last = await changes(`?since=${token}`)
    for (const c of last.changes)
      seen.set(`${c.type}:${c.id}:${c.seq}`, (seen.get(`${c.type}:${c.id}:${c.seq}`) ?? 0) + 1)
    expect([...seen.values()].every((n) => n === 1)).toBe(true)
    const titles = new Set([...seen.keys()].filter((k) => k.startsWith('task:')).map((k) => k.split(':')[1]))
    expect(titles.size).toBe(30)
  })
})
