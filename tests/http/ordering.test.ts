import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import fc from 'fast-check'
import { expectProblem, expectStatus, makeApp, type TestApp, tokenFor } from '../support/app'
import { allLists, createList, dbRows, storedTasks } from '../support/lists'
import { createTask, type NewTask, tasksOf, titlesOf } from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

const RUNS = Number(Bun.env.PROPERTY_RUNS ?? 25)
const SEED = Bun.env.PROPERTY_SEED ? Number(Bun.env.PROPERTY_SEED) : undefined

const tasks = () => tasksOf(api, alice, 'alice')
const task = (id: number) => tasks()({ id })
const create = (body: NewTask) => createTask(api, alice, 'alice', body)
const outline = (query: string) => titlesOf(api, alice, `/api/alice/tasks?sort=position${query}`)

/** Sibling groups as stored: every position distinct and, in id order of the group, what the API returns. */
async function siblingGroupsAreStrict() {
  const dupes = await dbRows(sql`
    select list_id, parent_id, position from tasks where user_id = 'alice'
    group by list_id, parent_id, position having count(*) > 1`)
  expect(dupes).toEqual([])
}

describe('manual order', () => {
  test('new tasks go first among their siblings, unless after_id / before_id say where', async () => {
    const a = await create({ title: 'a' })
    const b = await create({ title: 'b' })
    await create({ title: 'c', after_id: b.id })
    await create({ title: 'd', before_id: a.id })
    await create({ title: 'e', after_id: a.id })
    expect(await outline('')).toEqual(['b', 'c', 'd', 'a', 'e'])
    const stored = await storedTasks('alice')
    const keys = stored.map((t) => t.position)
    expect(new Set(keys).size).toBe(5)
    // Positions are opaque strings that sort bytewise, as listed.
    const listed = await tasks().get({ query: { sort: 'position' } })
    const positions = expectStatus(listed, 200).map((t) => t.position)
    expect([...positions].sort()).toEqual(positions)
    // The default order is unchanged: newest first.
    expect(await titlesOf(api, alice, '/api/alice/tasks')).toEqual(['e', 'd', 'c', 'b', 'a'])
  })

  test('after_id / before_id must be siblings at the destination', async () => {
    const work = await createList(api, alice, 'alice', { name: 'Work' })
    const top = await create({ title: 'top' })
    const child = await create({ title: 'child', parent_id: top.id })
    const elsewhere = await create({ title: 'elsewhere', list_id: work.id })
    const bobs = await createTask(api, bob, 'bob', { title: 'bob' })
    for (const body of [
      { after_id: child.id },
      { before_id: elsewhere.id },
      { after_id: bobs.id },
      { after_id: 999_999 },
    ]) {
      const problem = await expectProblem(await tasks().post({ title: 'x', ...body }), 400, 'validation_failed')
      expect(problem.detail).toContain('sibling')
    }
    await expectProblem(await task(top.id).move.post({ after_id: top.id }), 400, 'validation_failed')
    await expectProblem(
      await task(top.id).move.post({ list_id: work.id, after_id: child.id }),
      400,
      'validation_failed',
    )
    await expectProblem(await task(top.id).move.post({}), 400, 'validation_failed')
    expect(expectStatus(await task(top.id).move.post({ list_id: work.id, after_id: elsewhere.id }), 200).list_id).toBe(
      work.id,
    )
    expect(await outline(`&list_id=${work.id}`)).toEqual(['elsewhere', 'top', 'child'])
  })

  test('after_id and before_id together must be neighbours: a sibling between them would get the same key', async () => {
    const x1 = await create({ title: 'x1' })
    const x2 = await create({ title: 'x2', after_id: x1.id })
    const x3 = await create({ title: 'x3', after_id: x2.id })
    const m = await create({ title: 'm', after_id: x3.id })
    for (const body of [
      { after_id: x1.id, before_id: x3.id },
      { after_id: x3.id, before_id: x1.id },
      { after_id: x2.id, before_id: x2.id },
    ]) {
      const problem = await expectProblem(await task(m.id).move.post(body), 400, 'validation_failed')
      expect(problem.errors).toEqual([{ field: 'before_id', message: 'must be the sibling right after after_id' }])
      await expectProblem(await tasks().post({ title: 'n', ...body }), 400, 'validation_failed')
    }
    expect(await outline('')).toEqual(['x1', 'x2', 'x3', 'm'])
    await siblingGroupsAreStrict()
    expectStatus(await task(m.id).move.post({ after_id: x1.id, before_id: x2.id }), 200)
    expect(await outline('')).toEqual(['x1', 'm', 'x2', 'x3'])
    await siblingGroupsAreStrict()
  })

  test("a move writes the moved task's row only, never its siblings'", async () => {
    const ids = []
    for (const title of ['a', 'b', 'c', 'd']) ids.push((await create({ title })).id)
    const before = await dbRows<{ id: number; position: string; updated_at: string }>(
      sql`select id, position, updated_at::text from tasks order by id`,
    )
    const moved = expectStatus(await task(ids[0] as number).move.post({ before_id: ids[3] as number }), 200)
    const after = await dbRows<{ id: number; position: string; updated_at: string }>(
      sql`select id, position, updated_at::text from tasks order by id`,
    )
    expect(after.slice(1)).toEqual(before.slice(1))
    expect(after[0]?.position).toBe(moved.position)
    expect(await outline('')).toEqual(['a', 'd', 'c', 'b'])
  })

  test('keys stay short under repeated moves to the same spot (a rebalance past 32 characters)', async () => {
    const left = await create({ title: 'left' })
    const right = await create({ title: 'right', after_id: left.id })
    const movers = [await create({ title: 'x', after_id: right.id }), await create({ title: 'y', after_id: right.id })]
    // 250 such moves would make a 44-character key without a rebalance.
    for (let i = 0; i < 250; i++) {
      const mover = movers[i % 2] as { id: number }
      expectStatus(await task(mover.id).move.post({ after_id: left.id }), 200)
    }
    const longest = await dbRows<{ n: number }>(sql`select max(length(position))::int as n from tasks`)
    expect(longest[0]?.n).toBeLessThanOrEqual(32)
    expect(await outline('')).toEqual(['left', 'y', 'x', 'right'])
    await siblingGroupsAreStrict()
  }, 30_000)

  test('20 concurrent moves into one sibling group never give equal positions or lose a task', async () => {
    const anchor = await create({ title: 'anchor' })
    const others = []
    for (let i = 0; i < 20; i++) others.push(await create({ title: `t${i}`, after_id: anchor.id }))
    const answers = await Promise.all(others.map((t) => task(t.id).move.post({ after_id: anchor.id })))
    for (const answer of answers) expectStatus(answer, 200)
    const titles = await outline('')
    expect(titles.length).toBe(21)
    expect(titles[0]).toBe('anchor')
    await siblingGroupsAreStrict()
    // Concurrent moves that would each make a cycle with the other: one wins, one is refused.
    const p = await create({ title: 'p' })
    const q = await create({ title: 'q' })
    const [one, two] = await Promise.all([
      task(p.id).move.post({ parent_id: q.id }),
      task(q.id).move.post({ parent_id: p.id }),
    ])
    expect([one.status, two.status].sort()).toEqual([200, 400])
  })

  test('sort=position lists the outline: each task followed by its subtasks; pages follow it exactly', async () => {
    const work = await createList(api, alice, 'alice', { name: 'Work' })
    const a = await create({ title: 'a' })
    const b = await create({ title: 'b', after_id: a.id })
    const a1 = await create({ title: 'a1', parent_id: a.id })
    await create({ title: 'a2', parent_id: a.id, after_id: a1.id })
    await create({ title: 'a1x', parent_id: a1.id })
    await create({ title: 'b1', parent_id: b.id })
    await create({ title: 'w', list_id: work.id })
    const inboxId = (await allLists(api, alice, 'alice'))[0]?.id as number
    const inbox = ['a', 'a1', 'a1x', 'a2', 'b', 'b1']
    expect(await outline(`&list_id=${inboxId}`)).toEqual(inbox)
    expect(await outline(`&list_id=${inboxId}&limit=2`)).toEqual(inbox)
    expect(await outline(`&list_id=${inboxId}&order=desc&limit=4`)).toEqual([...inbox].reverse())
    // Without list_id: list by list.
    expect(await outline('&limit=3')).toEqual([...inbox, 'w'])
    expect(await outline('&parent_id=none')).toEqual(['a', 'b', 'w'])
    expect(await outline(`&parent_id=${a.id}`)).toEqual(['a1', 'a2'])
    expect(await titlesOf(api, alice, `/api/alice/tasks?list_id=${work.id}`)).toEqual(['w'])
    await expectProblem(
      await api.request('GET', '/api/alice/tasks?parent_id=top', { token: alice }),
      400,
      'validation_failed',
    )
    // Another user's list filters to nothing.
    const bobs = await createList(api, bob, 'bob', { name: 'B' })
    expect(await outline(`&list_id=${bobs.id}`)).toEqual([])
  })

  test('stats count one list with list_id', async () => {
    const work = await createList(api, alice, 'alice', { name: 'Work' })
    await create({ title: 'in inbox', tags: ['x'] })
    await create({ title: 'work 1', list_id: work.id, tags: ['y'], completed: true })
    await create({ title: 'work 2', list_id: work.id })
    const stats = expectStatus(await tasks().stats.get({ query: { list_id: work.id } }), 200)
    expect(stats).toMatchObject({ total: 2, completed: 1, pending: 1, by_tag: [{ tag: 'y', total: 1, pending: 0 }] })
    expect(expectStatus(await tasks().stats.get(), 200).total).toBe(3)
    // Given twice it names no one list: a 400, as on the task list, not the last one counted.
    const { id: inboxId } = (await allLists(api, alice, 'alice'))[0] as { id: number }
    const problem = await expectProblem(
      await api.request('GET', `/api/alice/tasks/stats?list_id=${inboxId}&list_id=${work.id}`, { token: alice }),
      400,
      'validation_failed',
    )
    expect(problem.errors).toEqual([{ field: 'list_id', message: 'is given more than once' }])
  })

  test('property: any sequence of moves keeps siblings strictly ordered, unique, and as a model says', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ mover: fc.nat(5), anchor: fc.nat(5), how: fc.constantFrom('after', 'before', 'first') }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (moves) => {
          await dbRows(sql`delete from tasks where user_id = 'alice' returning id`)
          const ids: number[] = []
          for (let i = 0; i < 6; i++) ids.push((await create({ title: `t${i}`, after_id: ids.at(-1) })).id)
          const model = [...ids]
          for (const { mover, anchor, how } of moves) {
            const id = ids[mover] as number
            const other = ids[anchor] as number
            if (how !== 'first' && id === other) continue
            const body =
              how === 'after' ? { after_id: other } : how === 'before' ? { before_id: other } : { parent_id: null }
            expectStatus(await task(id).move.post(body), 200)
            model.splice(model.indexOf(id), 1)
            const at = how === 'first' ? 0 : model.indexOf(other) + (how === 'after' ? 1 : 0)
            model.splice(at, 0, id)
          }
          const listed = expectStatus(await tasks().get({ query: { sort: 'position' } }), 200)
          expect(listed.map((t) => t.id)).toEqual(model)
          const positions = listed.map((t) => t.position)
          expect(new Set(positions).size).toBe(positions.length)
          expect(positions.every((p, i) => i === 0 || (positions[i - 1] as string) < p)).toBe(true)
        },
      ),
      { numRuns: RUNS, endOnFailure: true, seed: SEED },
    )
  }, 60_000)
})
