import { beforeEach, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { queryRows } from '../../src/db/client'
import { expectStatus, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { sharedDatabase } from '../support/database'
import { createTask, type TaskOut, tasksOf } from '../support/tasks'

let api: TestApp
beforeEach(async () => {
  api = await makeApp()
})

const USERS = ['ana', 'ben', 'cai', 'dee']
const PASSWORD = 'correct horse battery'

/**
 * Fifty requests at once, of every kind that touches the database: reads of existing tasks,
 * filtered lists and searches, sign-ups each followed by a login, creates each followed by a
 * read. Through a transaction-mode pooler, statements or state left on a shared server
 * connection answered other clients' queries: 404s for existing tasks, a 401 for the right
 * password, 500s and 503s. Every answer here must be the right one.
 */
test('50 parallel mixed requests: every answer right, and the database as expected', async () => {
  const tokens = Object.fromEntries(await Promise.all(USERS.map(async (u) => [u, await tokenFor(u)] as const)))
  const seeded = new Map<string, TaskOut[]>()
  for (const user of USERS) {
    const mine: TaskOut[] = []
    for (const [i, title] of ['Buy milk', 'Write report', 'Call plumber', 'Buy oat milk'].entries())
      mine.push(
        await createTask(api, tokens[user] as string, user, {
          title: `${title} (${user})`,
          priority: i % 2 ? 'high' : 'low',
          tags: i < 2 ? ['work'] : ['home'],
        }),
      )
    seeded.set(user, mine)
  }
  const ids = (tasks: { id: number }[]) => tasks.map((t) => t.id).sort((a, b) => a - b)
  const runs = Array.from({ length: 50 }, async (_, i) => {
    const user = USERS[i % USERS.length] as string
    const token = tokens[user] as string
    const mine = seeded.get(user) as TaskOut[]
    const tasks = tasksOf(api, token, user)
    switch (i % 5) {
      case 0: {
        const existing = mine[i % mine.length] as TaskOut
        expect(expectStatus(await tasks({ id: existing.id }).get(), 200)).toEqual(existing)
        return
      }
      case 1: {
        const found = expectStatus(await tasks.get({ query: { priority: ['high'], tag: ['work'] } }), 200)
        expect(ids(found)).toEqual(ids(mine.filter((t) => t.priority === 'high' && t.tags.includes('work'))))
        return
      }
      case 2: {
        const found = expectStatus(await tasks.get({ query: { q: 'milk' } }), 200)
        expect(ids(found)).toEqual(ids(mine.filter((t) => t.title.includes('milk'))))
        return
      }
      case 3: {
        const email = `user${i}@example.com`
        const signedUp = await api.request('POST', '/api/auth/register', {
          body: { email, password: PASSWORD, name: 'N' },
        })
        expect(signedUp.status).toBe(201)
        const { user: created } = await json<{ user: { id: string } }>(signedUp)
        const loggedIn = await api.request('POST', '/api/auth/login', { body: { email, password: PASSWORD } })
        expect(loggedIn.status).toBe(200)
        expect((await json<{ user: { id: string } }>(loggedIn)).user.id).toBe(created.id)
        return
      }
      default: {
        const created = await createTask(api, token, user, { title: `parallel ${i}` })
        expect(expectStatus(await tasks({ id: created.id }).get(), 200)).toEqual(created)
      }
    }
  })
  const outcomes = await Promise.allSettled(runs)
  const failures = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`request ${i}: ${o.reason}`] : []))
  expect(failures).toEqual([])

  const { db } = (await sharedDatabase()).database
  const counts = await queryRows<{ user_id: string; n: number }>(
    db,
    sql`select user_id, count(*)::int as n from tasks group by user_id order by user_id`,
  )
  // Four seeded tasks each, plus the ten creates, spread over the users by i % 4.
  const created = (user: string) =>
    Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 5 === 4 && USERS[i % 4] === user).length
  expect(counts).toEqual(USERS.map((u) => ({ user_id: u, n: 4 + created(u) })))
  const [accounts] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from users where password_hash is not null`,
  )
  expect(accounts?.n).toBe(10)
})
