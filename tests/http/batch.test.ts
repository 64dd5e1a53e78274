import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { allLists, createList, dbRows } from '../support/lists'
import { createTask, listAll } from '../support/tasks'

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
  // Both users exist (with their default list) before anything is compared.
  await allLists(api, alice, 'alice')
  await allLists(api, bob, 'bob')
})

interface Result {
  op: string
  type: string
  id: number
  task?: {
    id: number
    title: string
    list_id: number
    parent_id: number | null
    completed: boolean
    version: number
  } | null
  list?: { id: number; name: string; version: number } | null
}
interface BatchAnswer {
  results: Result[]
  temp_ids: Record<string, number>
  sync_token: string
}

const batch = (operations: unknown[], token = alice, user = 'alice') =>
  api.request('POST', `/api/${user}/batch`, { token, body: { operations } })

async function applied(operations: unknown[], token = alice, user = 'alice') {
  const res = await batch(operations, token, user)
  if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${await res.text()}`)
  return json<BatchAnswer>(res)
}

/** Everything of a user a batch could change, and their change counter. */
const snapshot = async (user = 'alice') => ({
  tasks: await dbRows(sql`select * from tasks where user_id = ${user} order by id`),
  lists: await dbRows(sql`select * from lists where user_id = ${user} order by id`),
  tombstones: await dbRows(sql`select * from tombstones where user_id = ${user} order by seq`),
  seq: (await dbRows<{ sync_seq: number }>(sql`select sync_seq from users where id = ${user}`))[0]?.sync_seq,
})

describe('POST /api/{user_id}/batch', () => {
  test('a list, a task in it and a subtask, linked by temp ids, are all there afterwards', async () => {
    const answer = await applied([
      { op: 'create', type: 'list', temp_id: 'home', data: { name: 'Home' } },
      { op: 'create', type: 'task', temp_id: 't1', data: { title: 'Clean', list_id: '$home' } },
      // camelCase spellings are taken inside operations too
      { op: 'create', type: 'task', tempId: 't2', data: { title: 'Kitchen', parentId: '$t1' } },
      { op: 'complete', type: 'task', id: '$t2', data: { completed: true } },
    ])
    const { home, t1, t2 } = answer.temp_ids as Record<'home' | 't1' | 't2', number>
    expect(Object.keys(answer.temp_ids).sort()).toEqual(['home', 't1', 't2'])
    expect(answer.results.map((r) => [r.op, r.type, r.id])).toEqual([
      ['create', 'list', home],
      ['create', 'task', t1],
      ['create', 'task', t2],
      ['complete', 'task', t2],
    ])
    expect(answer.results[3]?.task?.completed).toBe(true)
    const lists = await allLists(api, alice, 'alice')
    expect(lists.find((l) => l.id === home)?.name).toBe('Home')
    const tasks = await listAll(api, alice, '/api/alice/tasks?sort=position')
    expect(tasks.map((t) => [t.id, t.title, t.list_id, t.parent_id, t.completed])).toEqual([
      [t1, 'Clean', home, null, false],
      [t2, 'Kitchen', home, t1, true],
    ])
    expect(tasks[0]?.completed_subtask_count).toBe(1)
  })

  test('temp ids named like built-in object keys (__proto__, constructor) work as any other name', async () => {
    const answer = await applied([
      { op: 'create', type: 'list', temp_id: '__proto__', data: { name: 'Proto' } },
      { op: 'create', type: 'task', temp_id: 'constructor', data: { title: 'In it', list_id: '$__proto__' } },
      { op: 'create', type: 'task', temp_id: 'toString', data: { title: 'Sub', parent_id: '$constructor' } },
      { op: 'update', type: 'task', id: '$toString', data: { title: 'Sub 2' } },
    ])
    const ids = answer.temp_ids
    expect(Object.keys(ids).sort()).toEqual(['__proto__', 'constructor', 'toString'])
    // Own keys of the answer, not what an object inherits under those names.
    const own = (name: string) => Object.getOwnPropertyDescriptor(ids, name)?.value as number
    const [list, task, sub] = [own('__proto__'), own('constructor'), own('toString')]
    expect([list, task, sub].every((id) => Number.isInteger(id))).toBe(true)
    const tasks = await listAll(api, alice, '/api/alice/tasks?sort=position')
    expect(tasks.map((t) => [t.id, t.title, t.list_id, t.parent_id])).toEqual([
      [task, 'In it', list, null],
      [sub, 'Sub 2', list, task],
    ])
  })

  test('the sync token covers the batch: the feed has nothing newer, and an older token sees it all', async () => {
    const before = await json<{ next: string }>(await api.request('GET', '/api/alice/changes', { token: alice }))
    const answer = await applied([
      { op: 'create', type: 'task', temp_id: 'a', data: { title: 'a' } },
      { op: 'create', type: 'task', data: { title: 'b', after_id: '$a' } },
      { op: 'update', type: 'task', id: '$a', data: { title: 'a2' } },
    ])
    const after = await json<{ changes: unknown[]; next: string }>(
      await api.request('GET', `/api/alice/changes?since=${answer.sync_token}`, { token: alice }),
    )
    expect(after.changes).toEqual([])
    expect(after.next).toBe(answer.sync_token)
    const caught = await json<{ changes: { id: number; task?: { title: string } }[] }>(
      await api.request('GET', `/api/alice/changes?since=${before.next}`, { token: alice }),
    )
    expect(caught.changes.map((c) => c.task?.title).sort()).toEqual(['a2', 'b'])
    expect(answer.sync_token).toBe(String((await snapshot()).seq))
  })

  test('an unknown id fails the batch with a 404 naming the operation, and undoes the operations before it', async () => {
    const kept = await createTask(api, alice, 'alice', { title: 'kept' })
    const before = await snapshot()
    const res = await batch([
      { op: 'create', type: 'task', data: { title: 'new' } },
      { op: 'update', type: 'task', id: kept.id, data: { title: 'changed' } },
      { op: 'delete', type: 'task', id: 2_000_000_000 },
      { op: 'create', type: 'task', data: { title: 'never reached' } },
    ])
    const problem = await expectProblem(res, 404, 'not_found')
    expect(problem.operation_index).toBe(2)
    expect(problem.detail).toContain('Operation 2')
    expect(await snapshot()).toEqual(before)
  })

  test("another user's ids are a 404, and nothing of either user changes", async () => {
    const bobs = await createTask(api, bob, 'bob', { title: 'bob task' })
    const bobList = await createList(api, bob, 'bob', { name: 'Bob list' })
    const [aliceBefore, bobBefore] = [await snapshot('alice'), await snapshot('bob')]
    for (const operation of [
      { op: 'update', type: 'task', id: bobs.id, data: { title: 'mine now' } },
      { op: 'delete', type: 'task', id: bobs.id },
      { op: 'complete', type: 'task', id: bobs.id },
      { op: 'move', type: 'list', id: bobList.id, data: { after_id: bobList.id } },
      { op: 'delete', type: 'list', id: bobList.id, data: { tasks: 'delete' } },
    ]) {
      const res = await batch([{ op: 'create', type: 'task', data: { title: 'x' } }, operation])
      expect((await expectProblem(res, 404, 'not_found')).operation_index).toBe(1)
    }
    // As on the single route, a reference in the body to someone else's list is a 400 naming it.
    const intoBobs = await batch([{ op: 'create', type: 'task', data: { title: 'x', listId: bobList.id } }])
    const refused = await expectProblem(intoBobs, 400, 'validation_failed')
    expect(refused.errors).toEqual([{ field: 'operations.0.data.listId', message: 'names none of your lists' }])
    expect([await snapshot('alice'), await snapshot('bob')]).toEqual([aliceBefore, bobBefore])
  })

  test('a stale version is a 412 with the current task, and the whole batch is undone', async () => {
    const task = await createTask(api, alice, 'alice', { title: 'v1' })
    const list = await createList(api, alice, 'alice', { name: 'L' })
    await api.request('PATCH', `/api/alice/tasks/${task.id}`, { token: alice, body: { title: 'v2' } })
    const before = await snapshot()
    const res = await batch([
      { op: 'update', type: 'list', id: list.id, version: list.version, data: { name: 'L2' } },
      { op: 'update', type: 'task', id: task.id, version: task.version, data: { title: 'v3' } },
    ])
    // The batch has no tag of its own: the current task is in the body, not in an ETag.
    expect(res.headers.get('etag')).toBeNull()
    const problem = await expectProblem(res, 412, 'precondition_failed')
    expect(problem.operation_index).toBe(1)
    expect((problem.current as { title: string; version: number }).title).toBe('v2')
    expect((problem.current as { version: number }).version).toBeGreaterThan(task.version)
    expect(await snapshot()).toEqual(before)
    // With the current version it goes through.
    const current = (problem.current as { version: number }).version
    const ok = await applied([{ op: 'delete', type: 'task', id: task.id, version: current }])
    expect(ok.results).toEqual([{ op: 'delete', type: 'task', id: task.id, task: null }])
  })

  test('invalid data is a 400 naming the field within its operation, before anything is written', async () => {
    const before = await snapshot()
    const cases: [unknown[], string][] = [
      [
        [
          { op: 'create', type: 'task', data: { title: 'ok' } },
          { op: 'create', type: 'task', data: { title: ' ' } },
        ],
        'operations.1.data.title',
      ],
      [[{ op: 'create', type: 'task', data: { title: 'a', dueDate: 'soon' } }], 'operations.0.data.dueDate'],
      [[{ op: 'create', type: 'task', data: { title: 'a', id: 5 } }], 'operations.0.data.id'],
      [[{ op: 'update', type: 'task', id: 1, data: {} }], 'operations.0.data'],
      [[{ op: 'update', type: 'task', id: 1 }], 'operations.0.data'],
      [[{ op: 'complete', type: 'list', id: 1 }], 'operations.0.op'],
      [[{ op: 'update', type: 'task', data: { title: 'a' } }], 'operations.0.id'],
      [[{ op: 'create', type: 'task', id: 4, data: { title: 'a' } }], 'operations.0.id'],
      [[{ op: 'delete', type: 'task', id: 1, temp_id: 'x' }], 'operations.0.temp_id'],
      [[{ op: 'delete', type: 'task', id: '$nowhere' }], 'operations.0.id'],
      [[{ op: 'delete', type: 'list', id: 1, data: { tasks: 'keep' } }], 'operations.0.data.tasks'],
      [[{ op: 'create', type: 'task', data: { title: 'a', text: 'nul\u0000' } }], 'operations.0.data.text'],
      [[{ op: 'create', type: 'task', data: { title: 'bad \ud800' } }], 'operations.0.data.title'],
      [
        [
          { op: 'create', type: 'task', temp_id: 'a', data: { title: 'a' } },
          { op: 'create', type: 'task', temp_id: 'a', data: { title: 'b' } },
        ],
        'operations.1.temp_id',
      ],
      [
        [
          { op: 'create', type: 'task', temp_id: 'a', data: { title: 'a' } },
          { op: 'create', type: 'task', data: { title: 'b', listId: '$a' } },
        ],
        'operations.1.data.listId',
      ],
      // A reference to a create later in the batch names nothing yet.
      [
        [
          { op: 'complete', type: 'task', id: '$later' },
          { op: 'create', type: 'task', temp_id: 'later', data: { title: 'b' } },
        ],
        'operations.0.id',
      ],
      [[{ op: 'create', type: 'task', data: { title: 'a', list_id: 1, listId: 2 } }], 'operations.0.data.list_id'],
    ]
    for (const [operations, field] of cases) {
      const problem = await expectProblem(await batch(operations), 400, 'validation_failed')
      expect({ field: problem.errors?.[0]?.field, index: problem.operation_index }).toEqual({
        field,
        index: Number(field.split('.')[1]),
      })
    }
    expect(await snapshot()).toEqual(before)
  })

  test('1 to 100 operations: none or 101 is a 400, and a malformed operation is named', async () => {
    const before = await snapshot()
    const create = { op: 'create', type: 'task', data: { title: 'x' } }
    for (const operations of [[], Array.from({ length: 101 }, () => create)]) {
      const problem = await expectProblem(await batch(operations), 400, 'validation_failed')
      expect(problem.errors?.[0]?.field).toBe('operations')
    }
    const wrongOp = await expectProblem(await batch([create, { ...create, op: 'copy' }]), 400, 'validation_failed')
    expect(wrongOp.errors?.[0]?.field).toBe('operations.1.op')
    expect(await snapshot()).toEqual(before)
    const hundred = await applied(Array.from({ length: 100 }, (_, i) => ({ ...create, data: { title: `t${i}` } })))
    expect(hundred.results).toHaveLength(100)
    expect((await snapshot()).tasks).toHaveLength(100)
  })

  test('a list name taken within the batch is a 409 for that operation, and nothing is kept', async () => {
    const before = await snapshot()
    const res = await batch([
      { op: 'create', type: 'list', data: { name: 'Work' } },
      { op: 'create', type: 'list', data: { name: 'work' } },
    ])
    expect((await expectProblem(res, 409, 'list_name_taken')).operation_index).toBe(1)
    expect(await snapshot()).toEqual(before)
  })

  test('retried with the same Idempotency-Key, a batch applies once and its answer is replayed', async () => {
    const operations = [
      { op: 'create', type: 'list', temp_id: 'l', data: { name: 'Once' } },
      { op: 'create', type: 'task', data: { title: 'once', list_id: '$l' } },
    ]
    const send = () =>
      api.request('POST', '/api/alice/batch', {
        token: alice,
        body: { operations },
        headers: { 'idempotency-key': 'queue-42' },
      })
    const first = await send()
    expect(first.status).toBe(200)
    const retried = await send()
    expect(retried.status).toBe(200)
    expect(retried.headers.get('idempotent-replayed')).toBe('true')
    expect(await retried.json()).toEqual(await first.json())
    const after = await snapshot()
    expect(after.lists.filter((l) => (l as { name: string }).name === 'Once')).toHaveLength(1)
    expect(after.tasks).toHaveLength(1)
  })

  test('restore takes a task out of the trash, also one trashed earlier in the same batch', async () => {
    const kept = await createTask(api, alice, 'alice', { title: 'kept' })
    expect((await api.request('DELETE', `/api/alice/tasks/${kept.id}`, { token: alice })).status).toBe(204)
    const answer = await applied([
      { op: 'restore', type: 'task', id: kept.id },
      { op: 'create', type: 'task', temp_id: 'n', data: { title: 'new' } },
      { op: 'delete', type: 'task', id: '$n' },
      { op: 'restore', type: 'task', id: '$n' },
    ])
    expect(answer.results.map((r) => [r.op, r.task?.title ?? null])).toEqual([
      ['restore', 'kept'],
      ['create', 'new'],
      ['delete', null],
      ['restore', 'new'],
    ])
    expect((await listAll(api, alice, '/api/alice/tasks')).map((t) => t.title).sort()).toEqual(['kept', 'new'])
    expect(await dbRows(sql`select task_id from trash`)).toEqual([])
    // Not in the trash (any more): a 404 for that operation, and nothing of the batch stays.
    const before = await snapshot()
    const res = await batch([
      { op: 'create', type: 'task', data: { title: 'undone' } },
      { op: 'restore', type: 'task', id: kept.id },
    ])
    expect((await expectProblem(res, 404, 'not_found')).operation_index).toBe(1)
    expect(await snapshot()).toEqual(before)
    const versioned = await batch([{ op: 'restore', type: 'task', id: kept.id, version: 3 }])
    expect((await expectProblem(versioned, 400, 'validation_failed')).errors?.[0]?.field).toBe('operations.0.version')
    const onList = await batch([{ op: 'restore', type: 'list', id: 1 }])
    await expectProblem(onList, 400, 'validation_failed')
  })

  test('a batch needs a valid token for its own user', async () => {
    const operations = [{ op: 'create', type: 'task', data: { title: 'x' } }]
    await expectProblem(await api.request('POST', '/api/alice/batch', { body: { operations } }), 401, 'unauthorized')
    await expectProblem(await batch(operations, bob, 'alice'), 403, 'forbidden')
    const me = await applied(operations, alice, 'me')
    expect(me.results[0]?.task?.title).toBe('x')
  })
})

describe('a batch ends where the single routes end', () => {
  /** What a user sees: lists in order, and each task with its place, by name. */
  async function view(token: string, user: string) {
    const lists = await allLists(api, token, user)
    const tasks = await listAll(api, token, `/api/${user}/tasks?sort=position`)
    const title = new Map(tasks.map((t) => [t.id, t.title]))
    const listName = new Map(lists.map((l) => [l.id, l.name]))
    return {
      lists: lists.map((l) => [l.name, l.open_count, l.completed_count]),
      tasks: tasks.map((t) => [
        t.title,
        listName.get(t.list_id),
        t.parent_id === null ? null : title.get(t.parent_id),
        t.completed,
        t.priority,
        t.subtask_count,
        t.completed_subtask_count,
      ]),
    }
  }

  test('mixed update, complete, move and delete of tasks and lists', async () => {
    // The same starting point for both users.
    const setup = async (token: string, user: string) => {
      const work = await createList(api, token, user, { name: 'Work' })
      const home = await createList(api, token, user, { name: 'Home' })
      const a = await createTask(api, token, user, { title: 'a', list_id: work.id })
      const b = await createTask(api, token, user, { title: 'b', list_id: work.id })
      const c = await createTask(api, token, user, { title: 'c', parent_id: a.id })
      const d = await createTask(api, token, user, { title: 'd', list_id: home.id })
      return { work, home, a, b, c, d }
    }
    const s = await setup(bob, 'bob')
    const single = async (method: string, path: string, body?: unknown) => {
      const res = await api.request(method, `/api/bob${path}`, { token: bob, body })
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    }
    await single('PATCH', `/tasks/${s.a.id}`, { priority: 'high', title: 'a!' })
    await single('PATCH', `/tasks/${s.a.id}/complete`, { completed: true })
    await single('PATCH', `/tasks/${s.b.id}/complete`)
    await single('POST', `/tasks/${s.b.id}/move`, { parent_id: s.a.id })
    await single('POST', `/tasks/${s.d.id}/move`, { list_id: s.work.id, after_id: s.a.id })
    await single('PATCH', `/tasks/${s.a.id}/complete`, { completed: false })
    await single('DELETE', `/tasks/${s.c.id}`)
    await single('POST', `/lists/${s.home.id}/move`, { before_id: s.work.id })
    await single('PATCH', `/lists/${s.work.id}`, { name: 'Job', color: '#ABCDEF' })
    await single('POST', `/tasks`, { title: 'e', list_id: s.home.id })
    await single('DELETE', `/lists/${s.home.id}?tasks=move`)

    const t = await setup(alice, 'alice')
    await applied([
      { op: 'update', type: 'task', id: t.a.id, data: { priority: 'high', title: 'a!' } },
      { op: 'complete', type: 'task', id: t.a.id, data: { completed: true } },
      { op: 'complete', type: 'task', id: t.b.id },
      { op: 'move', type: 'task', id: t.b.id, data: { parent_id: t.a.id } },
      { op: 'move', type: 'task', id: t.d.id, data: { list_id: t.work.id, after_id: t.a.id } },
      { op: 'complete', type: 'task', id: t.a.id, data: { completed: false } },
      { op: 'delete', type: 'task', id: t.c.id },
      { op: 'move', type: 'list', id: t.home.id, data: { before_id: t.work.id } },
      { op: 'update', type: 'list', id: t.work.id, data: { name: 'Job', color: '#ABCDEF' } },
      { op: 'create', type: 'task', data: { title: 'e', list_id: t.home.id } },
      { op: 'delete', type: 'list', id: t.home.id, data: { tasks: 'move' } },
    ])
    const [mine, theirs] = [await view(alice, 'alice'), await view(bob, 'bob')]
    expect(mine).toEqual(theirs)
    expect(mine.lists.map((l) => l[0])).toEqual(['Inbox', 'Job'])
  })
})
