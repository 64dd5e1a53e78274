import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, expectStatus, makeApp, type TestApp, tokenFor } from '../support/app'
import { expectCountsRight } from '../support/counts'
import { allLists, createList, dbRows, storedTasks } from '../support/lists'
import { createTask, type NewTask, tasksOf } from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

const tasks = () => tasksOf(api, alice, 'alice')
const task = (id: number) => tasks()({ id })
const create = (body: NewTask) => createTask(api, alice, 'alice', body)
const get = async (id: number) => expectStatus(await task(id).get(), 200)

/** A chain: each task a subtask of the one before, `levels` below the top-level one. */
async function chain(levels: number) {
  const ids = [(await create({ title: 'level 0' })).id]
  for (let level = 1; level <= levels; level++)
    ids.push((await create({ title: `level ${level}`, parent_id: ids.at(-1) })).id)
  return ids
}

describe('subtasks', () => {
  test("a subtask lives in its parent's list; the parent counts its direct subtasks", async () => {
    const work = await createList(api, alice, 'alice', { name: 'Work' })
    const parent = await create({ title: 'parent', list_id: work.id })
    const child = await create({ title: 'child', parent_id: parent.id })
    expect(child).toMatchObject({ parent_id: parent.id, list_id: work.id, subtask_count: 0 })
    await create({ title: 'grandchild', parent_id: child.id, completed: true })
    await create({ title: 'second child', parent_id: parent.id, list_id: work.id, completed: true })
    expect(await get(parent.id)).toMatchObject({ subtask_count: 2, completed_subtask_count: 1 })
    expect(await get(child.id)).toMatchObject({ subtask_count: 1, completed_subtask_count: 1 })
    const inbox = (await allLists(api, alice, 'alice')).find((l) => l.is_default)
    await expectProblem(
      await tasks().post({ title: 'x', parent_id: parent.id, list_id: inbox?.id }),
      400,
      'validation_failed',
    )
    const bobs = await createTask(api, bob, 'bob', { title: 'bob' })
    const problem = await expectProblem(
      await tasks().post({ title: 'x', parent_id: bobs.id }),
      400,
      'validation_failed',
    )
    expect(problem.errors?.[0]?.field).toBe('parent_id')
    expect((await storedTasks('alice')).length).toBe(4)
  })

  test('at most 4 levels below a top-level task, on create and on move', async () => {
    const ids = await chain(4)
    const deepest = ids[4] as number
    const problem = await expectProblem(
      await tasks().post({ title: 'too deep', parent_id: deepest }),
      400,
      'validation_failed',
    )
    expect(problem.errors?.[0]).toEqual({ field: 'parent_id', message: expect.stringContaining('4 levels') })
    // A task with one level below it can go under level 2, not under level 3.
    const small = await create({ title: 'small' })
    await create({ title: 'small child', parent_id: small.id })
    expectStatus(await task(small.id).move.post({ parent_id: ids[2] as number }), 200)
    await expectProblem(await task(small.id).move.post({ parent_id: ids[3] as number }), 400, 'validation_failed')
    expect((await get(small.id)).parent_id).toBe(ids[2] as number)
  })

  test('a task can never become its own ancestor', async () => {
    const [top, mid, low] = (await chain(2)) as [number, number, number]
    for (const parent of [top, mid, low])
      await expectProblem(await task(top).move.post({ parent_id: parent }), 400, 'validation_failed')
    const stored = await storedTasks('alice')
    expect(stored.map((t) => t.parent_id)).toEqual([null, top, mid])
  })

  test('completing completes open subtasks at every level, each with its own completed_at; done ones keep theirs', async () => {
    const [top, mid, low] = (await chain(2)) as [number, number, number]
    const doneEarlier = await create({ title: 'done earlier', parent_id: top, completed: true })
    const done = expectStatus(await task(top).complete.patch({ completed: true }), 200)
    expect(done).toMatchObject({ completed: true, subtask_count: 2, completed_subtask_count: 2 })
    for (const id of [mid, low])
      expect(await get(id)).toMatchObject({ completed: true, completed_at: expect.any(String) })
    expect((await get(doneEarlier.id)).completed_at).toBe(doneEarlier.completed_at)
    expect(await get(top)).toMatchObject({ subtask_count: 2, completed_subtask_count: 2 })
    const times = await dbRows<{ n: number }>(
      sql`select count(distinct completed_at)::int as n from tasks where id in (${top}, ${mid}, ${low})`,
    )
    expect(times[0]?.n).toBeGreaterThanOrEqual(1)
  })

  test('reopening a subtask reopens its completed ancestors, not its siblings', async () => {
    const [top, mid, low] = (await chain(2)) as [number, number, number]
    const sibling = await create({ title: 'sibling', parent_id: mid })
    expectStatus(await task(top).complete.patch(), 200)
    const reopened = expectStatus(await task(low).complete.patch({ completed: false }), 200)
    expect(reopened.completed).toBe(false)
    expect((await get(mid)).completed).toBe(false)
    expect((await get(top)).completed).toBe(false)
    expect((await get(sibling.id)).completed).toBe(true)
    // PATCH with `completed` follows the same rules as /complete.
    expectStatus(await task(top).patch({ completed: true, title: 'top, done' }), 200)
    expect((await get(low)).completed).toBe(true)
    expectStatus(await task(low).patch({ completed: false }), 200)
    expect((await get(top)).completed).toBe(false)
    await expectCountsRight()
  })

  test('deleting a task deletes its subtasks; the counts follow', async () => {
    const [top, mid] = (await chain(3)) as [number, number]
    const other = await create({ title: 'other' })
    expect((await task(mid).delete()).status).toBe(204)
    expect((await storedTasks('alice')).map((t) => t.id)).toEqual([top, other.id])
    expect(await get(top)).toMatchObject({ subtask_count: 0, completed_subtask_count: 0 })
    const [inbox] = await allLists(api, alice, 'alice')
    expect(inbox).toMatchObject({ open_count: 2, completed_count: 0 })
  })

  test('moving a task to another list takes its whole subtree along', async () => {
    const work = await createList(api, alice, 'alice', { name: 'Work' })
    const [top, mid, low] = (await chain(2)) as [number, number, number]
    await task(low).complete.patch({ completed: true })
    const moved = expectStatus(await task(top).move.post({ list_id: work.id }), 200)
    expect(moved).toMatchObject({ list_id: work.id, parent_id: null })
    const stored = await storedTasks('alice')
    expect(stored.map((t) => t.list_id)).toEqual([work.id, work.id, work.id])
    expect(stored.every((t) => t.outline.startsWith(String(work.id).padStart(10, '0')))).toBe(true)
    const counts = await allLists(api, alice, 'alice')
    expect(counts.map((l) => [l.name, l.open_count, l.completed_count])).toEqual([
      ['Inbox', 0, 0],
      ['Work', 2, 1],
    ])
    // Moving a subtask to another list alone makes it top-level there.
    const inboxId = counts[0]?.id as number
    expect(expectStatus(await task(mid).move.post({ list_id: inboxId }), 200)).toMatchObject({ parent_id: null })
    expect((await get(low)).list_id).toBe(inboxId)
    expect(await get(top)).toMatchObject({ subtask_count: 0 })
  })

  test('counts stay exact under concurrent creates, completions and deletes', async () => {
    const parent = await create({ title: 'parent' })
    const children = await Promise.all(
      Array.from({ length: 20 }, (_, i) => tasks().post({ title: `child ${i}`, parent_id: parent.id })),
    )
    const ids = children.map((c) => expectStatus(c, 201).id)
    await Promise.all([
      ...ids.slice(0, 10).map((id) => task(id).complete.patch()),
      ...ids.slice(10, 15).map((id) => task(id).delete()),
      ...ids.slice(15).map((id) => task(id).patch({ completed: true })),
    ])
    expect(await get(parent.id)).toMatchObject({ subtask_count: 15, completed_subtask_count: 15 })
    await expectCountsRight()
  })
})

describe('one subtree changed from many sides at once', () => {
  test('completes, reopens, moves and deletes of one subtree all answer (no deadlock as a 503); counts exact', async () => {
    const other = await createList(api, alice, 'alice', { name: 'Other' })
    for (let round = 0; round < 6; round++) {
      const root = await create({ title: 'root' })
      const children: { id: number }[] = []
      for (let i = 0; i < 6; i++) children.push(await create({ title: `c${i}`, parent_id: root.id }))
      const grandchildren: { id: number }[] = []
      for (const [i, child] of children.entries())
        grandchildren.push(await create({ title: `g${i}`, parent_id: child.id, completed: true }))
      const answers = await Promise.all(
        children.flatMap((child, i) => {
          const grandchild = grandchildren[i] as { id: number }
          return [
            task(root.id).complete.patch({ completed: i % 2 === 0 }),
            task(child.id).move.post(
              i % 2 ? { list_id: other.id } : { parent_id: (children[(i + 1) % 6] as { id: number }).id },
            ),
            task(grandchild.id).complete.patch({ completed: false }),
            task(grandchild.id).move.post({ parent_id: root.id }),
            ...(i === 3 ? [task((children[2] as { id: number }).id).delete()] : []),
            tasks().post({ title: 'new', parent_id: child.id }),
          ]
        }),
      )
      // Each answer is a success, or a 400 / 404 for a move or create that a concurrent change
      // made invalid (a deleted parent, a would-be cycle); never a 5xx.
      for (const answer of answers) expect([200, 201, 204, 400, 404]).toContain(answer.status)
    }
    await expectCountsRight()
  }, 30_000)
})
