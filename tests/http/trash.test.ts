import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, expectStatus, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { expectCountsRight } from '../support/counts'
import { allLists, createList, dbRows, listsOf } from '../support/lists'
import { createTask, listAll, type NewTask, nextLink, tasksOf } from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

const user = () => api.as(alice).api({ user_id: 'alice' })
const tasks = () => tasksOf(api, alice, 'alice')
const create = (body: NewTask) => createTask(api, alice, 'alice', body)
const get = async (id: number) => expectStatus(await tasks()({ id }).get(), 200)
const trashIt = async (id: number) => expectStatus(await tasks()({ id }).delete(), 204)
const restore = async (id: number) => expectStatus(await user().trash({ id }).restore.post(), 200)
const trashPage = async () => expectStatus(await user().trash.get({ query: {} }), 200)

const tombstones = (userId: string) =>
  dbRows<{ entity_id: number; seq: number; reason: string }>(
    sql`select entity_id, seq, reason from tombstones where user_id = ${userId} and kind = 'task' order by entity_id`,
  )
const syncSeq = async (userId: string) =>
  (await dbRows<{ sync_seq: number }>(sql`select sync_seq from users where id = ${userId}`))[0]?.sync_seq

/** A task with a subtask and a grandchild (completed), under a list of its own. */
async function family() {
  const list = await createList(api, alice, 'alice', { name: 'Home' })
  const parent = await create({ title: 'parent', list_id: list.id })
  const child = await create({ title: 'child', parent_id: parent.id })
  const grandchild = await create({ title: 'grandchild', parent_id: child.id, completed: true })
  return { list, parent, child, grandchild }
}

describe('DELETE moves a task to the trash', () => {
  test('the task and its subtasks are a 404 everywhere, and in the trash as one item', async () => {
    const { list, parent, child, grandchild } = await family()
    const other = await create({ title: 'stays', list_id: list.id })
    const before = await get(child.id)
    await trashIt(child.id)

    for (const id of [child.id, grandchild.id]) {
      await expectProblem(await tasks()({ id }).get(), 404, 'not_found')
      await expectProblem(await tasks()({ id }).patch({ title: 'x' }), 404, 'not_found')
      await expectProblem(await tasks()({ id }).put({ title: 'x' }), 404, 'not_found')
      await expectProblem(await tasks()({ id }).complete.patch({ completed: true }), 404, 'not_found')
      await expectProblem(await tasks()({ id }).move.post({ parent_id: null }), 404, 'not_found')
      await expectProblem(await tasks()({ id }).delete(), 404, 'not_found')
      // Nor can anything be put under or beside it.
      const problem = await expectProblem(await tasks().post({ title: 'x', parent_id: id }), 400, 'validation_failed')
      expect(problem.errors?.[0]?.field).toBe('parent_id')
    }
    const listed = await listAll(api, alice, await tasks().get({ query: {} }))
    expect(listed.map((t) => t.id).sort()).toEqual([parent.id, other.id].sort())
    expect(expectStatus(await tasks().stats.get({ query: {} }), 200)).toMatchObject({ total: 2, completed: 0 })
    expect(await get(parent.id)).toMatchObject({ subtask_count: 0, completed_subtask_count: 0 })
    const home = (await allLists(api, alice, 'alice')).find((l) => l.id === list.id)
    expect(home).toMatchObject({ open_count: 2, completed_count: 0 })
    await expectCountsRight()

    const [item, ...more] = await trashPage()
    expect(more).toEqual([])
    expect(item).toEqual({ ...before, deleted_at: expect.any(String), subtask_total: 1 })
    expect(Date.parse(item?.deleted_at as string)).toBeGreaterThanOrEqual(Date.parse(before.updated_at))
    // The change feed learns of both: tombstones that say "trashed".
    expect(await tombstones('alice')).toEqual([
      { entity_id: child.id, seq: expect.any(Number), reason: 'trashed' },
      { entity_id: grandchild.id, seq: expect.any(Number), reason: 'trashed' },
    ])
  })

  test('restore brings it back: same ids, list, parent, position, fields; new versions; counts right', async () => {
    const { list, parent, child, grandchild } = await family()
    const sibling = await create({ title: 'sibling', parent_id: parent.id, after_id: child.id })
    const before = await Promise.all([child.id, grandchild.id].map(get))
    await trashIt(child.id)
    const answer = await user().trash({ id: child.id }).restore.post()
    const restored = expectStatus(answer, 200)
    expect(answer.response.headers.get('etag')).toBe(`"${restored.version}"`)
    const { version: _v, updated_at: _u, ...same } = before[0] as (typeof before)[0]
    expect(restored).toEqual({ ...same, version: expect.any(Number), updated_at: expect.any(String) })
    expect(restored).toMatchObject({ id: child.id, list_id: list.id, parent_id: parent.id, subtask_count: 1 })
    for (const [i, old] of before.entries()) {
      const now = await get(old.id)
      expect(now.version).toBeGreaterThan(old.version)
      expect(Date.parse(now.updated_at)).toBeGreaterThan(Date.parse(old.updated_at))
      const { version: _a, updated_at: _b, ...rest } = now
      const { version: _c, updated_at: _d, ...was } = before[i] as typeof old
      expect(rest).toEqual(was)
    }
    expect(await get(parent.id)).toMatchObject({ subtask_count: 2 })
    const order = await listAll(api, alice, await tasks().get({ query: { sort: 'position', list_id: list.id } }))
    expect(order.map((t) => t.id)).toEqual([parent.id, child.id, grandchild.id, sibling.id])
    const home = (await allLists(api, alice, 'alice')).find((l) => l.id === list.id)
    expect(home).toMatchObject({ open_count: 3, completed_count: 1 })
    await expectCountsRight()
    expect(await trashPage()).toEqual([])
    expect(await tombstones('alice')).toEqual([])
    await expectProblem(await user().trash({ id: child.id }).restore.post(), 404, 'not_found')
    // It is an ordinary task again.
    expectStatus(await tasks()({ id: grandchild.id }).patch({ title: 'renamed' }), 200)
  })

  test('restore goes after a sibling that took its position meanwhile', async () => {
    const x = await create({ title: 'x' })
    const y = await create({ title: 'y', after_id: x.id })
    const z = await create({ title: 'z', after_id: y.id })
    await trashIt(y.id)
    const w = await create({ title: 'w', after_id: x.id })
    expect(w.position).toBe(y.position)
    const back = await restore(y.id)
    expect(back.position).not.toBe(w.position)
    const order = await listAll(api, alice, await tasks().get({ query: { sort: 'position' } }))
    expect(order.map((t) => t.title)).toEqual(['x', 'w', 'y', 'z'])
    expect((await get(z.id)).position).toBe(z.position)
  })

  test('restore into the default list when its list was deleted', async () => {
    const { list, parent, child, grandchild } = await family()
    await trashIt(parent.id)
    expectStatus(await listsOf(api, alice, 'alice')({ list_id: list.id }).delete({ query: {} }), 204)
    const inbox = (await allLists(api, alice, 'alice')).find((l) => l.is_default)
    const back = await restore(parent.id)
    expect(back).toMatchObject({ id: parent.id, list_id: inbox?.id, parent_id: null, subtask_count: 1 })
    expect(await get(child.id)).toMatchObject({ list_id: inbox?.id, parent_id: parent.id })
    expect(await get(grandchild.id)).toMatchObject({ list_id: inbox?.id, parent_id: child.id, completed: true })
    expect((await allLists(api, alice, 'alice')).find((l) => l.id === inbox?.id)).toMatchObject({
      open_count: 2,
      completed_count: 1,
    })
    await expectCountsRight()
  })

  test('deleting a list with ?tasks=delete sends its tasks to the trash; restored, they land in the Inbox', async () => {
    const { list, parent, child, grandchild } = await family()
    const other = await create({ title: 'second', list_id: list.id })
    expectStatus(
      await listsOf(api, alice, 'alice')({ list_id: list.id }).delete(undefined, { query: { tasks: 'delete' } }),
      204,
    )
    const items = await trashPage()
    expect(items.map((i) => [i.id, i.subtask_total]).sort((x, y) => (x[0] as number) - (y[0] as number))).toEqual([
      [parent.id, 2],
      [other.id, 0],
    ])
    expect(await tombstones('alice')).toEqual(
      [parent.id, child.id, grandchild.id, other.id]
        .sort((a, b) => a - b)
        .map((id) => ({
          entity_id: id,
          seq: expect.any(Number),
          reason: 'trashed',
        })),
    )
    const inbox = (await allLists(api, alice, 'alice')).find((l) => l.is_default)
    expect(await restore(parent.id)).toMatchObject({ list_id: inbox?.id, subtask_count: 1 })
    expect(await get(grandchild.id)).toMatchObject({ list_id: inbox?.id, parent_id: child.id })
    await expectCountsRight()
  })

  test('restore to the top level of its list when its parent is gone or now too deep', async () => {
    const { list, parent, child, grandchild } = await family()
    await trashIt(child.id)
    await trashIt(parent.id)
    const back = await restore(child.id)
    expect(back).toMatchObject({ id: child.id, list_id: list.id, parent_id: null, subtask_count: 1 })
    expect(await get(grandchild.id)).toMatchObject({ parent_id: child.id, list_id: list.id })
    // The parent, restored later, comes back without it.
    expect(await restore(parent.id)).toMatchObject({ id: parent.id, subtask_count: 0 })
    await expectCountsRight()

    // A chain 0 > 1 > 2 > 3; trash 2 (with 3), then put 0 two levels down: 2 under 1 would be
    // 5 levels below a top-level task.
    const a = await create({ title: 'a' })
    const b = await create({ title: 'b', parent_id: a.id })
    const level0 = await create({ title: 'level 0' })
    const level1 = await create({ title: 'level 1', parent_id: level0.id })
    const level2 = await create({ title: 'level 2', parent_id: level1.id })
    await create({ title: 'level 3', parent_id: level2.id })
    await trashIt(level2.id)
    expectStatus(await tasks()({ id: level0.id }).move.post({ parent_id: b.id }), 200)
    const inbox = (await allLists(api, alice, 'alice')).find((l) => l.is_default)
    expect(await restore(level2.id)).toMatchObject({ parent_id: null, list_id: inbox?.id, subtask_count: 1 })
    await expectCountsRight()
  })

  test("another user's trash: not listed, not restorable, not purgeable (404)", async () => {
    const { child } = await family()
    await trashIt(child.id)
    const bobs = api.as(bob).api({ user_id: 'bob' })
    expect(expectStatus(await bobs.trash.get({ query: {} }), 200)).toEqual([])
    await expectProblem(await bobs.trash({ id: child.id }).restore.post(), 404, 'not_found')
    await expectProblem(await bobs.trash({ id: child.id }).delete(), 404, 'not_found')
    expectStatus(await bobs.trash.delete(), 204)
    await expectProblem(await api.as(bob).api({ user_id: 'alice' }).trash.get({ query: {} }), 403, 'forbidden')
    expect((await trashPage()).map((t) => t.id)).toEqual([child.id])
  })

  test('purge one item and empty the trash: gone for good, tombstones say "purged" with fresh numbers', async () => {
    const { parent, child, grandchild } = await family()
    const lone = await create({ title: 'lone' })
    const third = await create({ title: 'third' })
    await trashIt(child.id)
    await trashIt(lone.id)
    await trashIt(third.id)
    const seq = await syncSeq('alice')
    expectStatus(await user().trash({ id: child.id }).delete(), 204)
    expect(await syncSeq('alice')).toBe((seq as number) + 2)
    const stones = await tombstones('alice')
    expect(stones.filter((s) => s.reason === 'purged').map((s) => s.entity_id)).toEqual([child.id, grandchild.id])
    for (const s of stones.filter((s) => s.reason === 'purged')) expect(s.seq).toBeGreaterThan(seq as number)
    expect((await trashPage()).map((t) => t.id)).toEqual([third.id, lone.id])
    await expectProblem(await user().trash({ id: child.id }).restore.post(), 404, 'not_found')
    await expectProblem(await user().trash({ id: child.id }).delete(), 404, 'not_found')
    await expectProblem(await tasks()({ id: child.id }).get(), 404, 'not_found')

    expectStatus(await user().trash.delete(), 204)
    expect(await trashPage()).toEqual([])
    expect(await syncSeq('alice')).toBe((seq as number) + 4)
    expect((await tombstones('alice')).map((s) => s.reason)).toEqual(['purged', 'purged', 'purged', 'purged'])
    expectStatus(await user().trash.delete(), 204)
    expect(await get(parent.id)).toMatchObject({ subtask_count: 0 })
    await expectCountsRight()
  })

  test('the trash is paged newest first, with Link rel="next"', async () => {
    const ids: number[] = []
    for (let i = 0; i < 5; i++) ids.push((await create({ title: `t${i}` })).id)
    for (const id of ids) await trashIt(id)
    const first = await user().trash.get({ query: { limit: 2 } })
    expect(expectStatus(first, 200).map((t) => t.id)).toEqual(ids.slice(3).reverse())
    const seen = [...(first.data ?? []).map((t) => t.id)]
    let next = nextLink(first.response)
    while (next) {
      const res = await api.request('GET', next, { token: alice })
      expect(res.status).toBe(200)
      const page = await json<{ id: number }[]>(res)
      expect(page.length).toBeLessThanOrEqual(2)
      seen.push(...page.map((t) => t.id))
      next = nextLink(res)
    }
    expect(seen).toEqual([...ids].reverse())
    await expectProblem(
      await api.request('GET', '/api/alice/trash?cursor=nonsense', { token: alice }),
      400,
      'validation_failed',
    )
    await expectProblem(
      await api.request('GET', '/api/alice/trash?limit=0', { token: alice }),
      400,
      'validation_failed',
    )
    await expectProblem(
      await api.request('GET', '/api/alice/trash?sort=title', { token: alice }),
      400,
      'validation_failed',
    )
    // A cursor of the task list is not one of the trash.
    for (let i = 0; i < 3; i++) await create({ title: `open ${i}` })
    const taskPage = await tasks().get({ query: { limit: 1 } })
    const taskCursor = new URL(`http://x${nextLink(taskPage.response)}`).searchParams.get('cursor') as string
    await expectProblem(
      await api.request('GET', `/api/alice/trash?cursor=${encodeURIComponent(taskCursor)}`, { token: alice }),
      400,
      'validation_failed',
    )
  })

  test('at once: a task and its parent deleted, one item restored and purged twice over; each happens once', async () => {
    const { parent, child, grandchild } = await family()
    const deletes = await Promise.all([parent.id, child.id, grandchild.id].map((id) => tasks()({ id }).delete()))
    // Whichever came first took its subtree along; later ones found nothing (404), or their
    // own task still there (204, a separate item).
    expect(deletes.map((r) => r.status).every((s) => s === 204 || s === 404)).toBe(true)
    const items = await trashPage()
    expect(items.reduce((n, item) => n + 1 + item.subtask_total, 0)).toBe(3)
    const root = items.find((item) => item.id === parent.id)
    expect(root).toBeDefined()
    const answers = await Promise.all([
      user().trash({ id: parent.id }).restore.post(),
      user().trash({ id: parent.id }).restore.post(),
      user().trash({ id: parent.id }).delete(),
      user().trash({ id: parent.id }).delete(),
    ])
    const statuses = answers.map((r) => r.status)
    expect(statuses.filter((s) => s === 200 || s === 204)).toHaveLength(1)
    expect(statuses.filter((s) => s === 404)).toHaveLength(3)
    await expectCountsRight()
  })

  test('If-Match on DELETE: a stale version is a 412 and nothing goes to the trash; the current one trashes it', async () => {
    const task = await create({ title: 'guarded' })
    const changed = expectStatus(await tasks()({ id: task.id }).patch({ title: 'changed' }), 200)
    const stale = await api.request('DELETE', `/api/alice/tasks/${task.id}`, {
      token: alice,
      headers: { 'if-match': `"${task.version}"` },
    })
    await expectProblem(stale, 412, 'precondition_failed')
    expect(await trashPage()).toEqual([])
    expect(await get(task.id)).toMatchObject({ title: 'changed' })
    const current = await api.request('DELETE', `/api/alice/tasks/${task.id}`, {
      token: alice,
      headers: { 'if-match': `"${changed.version}"` },
    })
    expect(current.status).toBe(204)
    expect((await trashPage()).map((t) => t.id)).toEqual([task.id])
  })
})
