import type { TSchema } from '@sinclair/typebox'
import { CreateListBody, DeleteListQuery, MoveListBody, UpdateListBody } from '../../src/modules/lists/model'
import { CompleteBody, CreateTaskBody, MoveTaskBody, UpdateTaskBody } from '../../src/modules/tasks/model'
import type { TestApp } from './app'
import { sampleOf } from './arbitrary'
import { allLists, createList } from './lists'
import { firedReminders } from './reminders'
import type { RouteInfo } from './routes'
import { createTask } from './tasks'

// Valid values of these fields depend on what exists: ids of the caller's other tasks or lists.
// Generated bodies leave them out; tests of their own cover them.
const REFERENCES = ['list_id', 'parent_id', 'after_id', 'before_id']

const isListRoute = (route: RouteInfo) => route.path.includes(':list_id')

/**
 * A fresh row for the route's path to name: a list on list routes, a deleted task on trash
 * routes, a fired reminder on reminder routes, else a task.
 */
export async function targetFor(api: TestApp, token: string, user: string, route: RouteInfo): Promise<number> {
  if (route.path.includes('/reminders/')) return (await firedReminders(api, token, user, ['target']))[0] as number
  if (isListRoute(route)) return (await createList(api, token, user, { name: `target ${crypto.randomUUID()}` })).id
  const { id } = await createTask(api, token, user, { title: 'target' })
  if (route.path.includes('/trash/')) {
    const res = await api.request('DELETE', `/api/${encodeURIComponent(user)}/tasks/${id}`, { token })
    if (res.status !== 204) throw new Error(`deleting the target answered ${res.status}`)
  }
  return id
}

/**
 * A generated body made valid in the account's state: references left out, and a move given a
 * destination that exists (first at top level for a task, after the Inbox for a list).
 */
export async function inState(api: TestApp, token: string, user: string, route: RouteInfo, body: unknown) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body
  if (route.path.endsWith('/batch')) return batchInState(api, token, user, body as { operations?: unknown })
  const kept = Object.fromEntries(Object.entries(body).filter(([key]) => !REFERENCES.includes(key)))
  // Quick add: a text that leaves a title (a word first, no tokens, at most 255 characters).
  if (route.path.endsWith('/tasks/quick') && typeof kept.text === 'string')
    kept.text = `Task ${kept.text.replace(/[#!@]/g, ' ').slice(0, 200)}`
  // A recurrence needs a rule the RRULE grammar accepts and a due date (rules beyond the schema).
  if (typeof kept.recurrence === 'object' && kept.recurrence !== null) {
    kept.recurrence = { ...kept.recurrence, rule: 'FREQ=WEEKLY;BYDAY=MO,FR' }
    if (kept.due_date === undefined || kept.due_date === null) kept.due_date = '2026-03-02'
  }
  // A reminder `before` the due time needs a due instant.
  const reminders = Array.isArray(kept.reminders) ? (kept.reminders as Record<string, unknown>[]) : []
  if (reminders.some((r) => 'before' in r) && !String(kept.due_date ?? '').includes('T'))
    kept.due_date = '2026-03-02T09:00:00Z'
  if (!route.path.endsWith('/move')) return kept
  if (!isListRoute(route)) return { ...kept, parent_id: null }
  const inbox = (await allLists(api, token, user)).find((l) => l.is_default)
  if (!inbox) throw new Error('the user has no default list')
  return { ...kept, after_id: inbox.id }
}

/**
 * Answers the account's state explains: a list name the generator made may already be taken
 * (409, on a list route or in a batch); a well-formed sync token it made was never issued to this account (410).
 */
export const conflictOfState = (route: RouteInfo, status: number) =>
  (status === 409 && (route.path.includes('/lists') || route.path.endsWith('/batch'))) ||
  (status === 410 && /\/(changes|events)$/.test(route.path))

// Each batch operation is its single route's request: that route's path and body model.
const SINGLE_ROUTES: Record<string, [string, TSchema | undefined]> = {
  'task create': ['/api/:user_id/tasks', CreateTaskBody],
  'task update': ['/api/:user_id/tasks/:id', UpdateTaskBody],
  'task complete': ['/api/:user_id/tasks/:id/complete', CompleteBody],
  'task move': ['/api/:user_id/tasks/:id/move', MoveTaskBody],
  'task delete': ['/api/:user_id/tasks/:id', undefined],
  'task restore': ['/api/:user_id/trash/:id/restore', undefined],
  'list create': ['/api/:user_id/lists', CreateListBody],
  'list update': ['/api/:user_id/lists/:list_id', UpdateListBody],
  'list move': ['/api/:user_id/lists/:list_id/move', MoveListBody],
  'list delete': ['/api/:user_id/lists/:list_id', DeleteListQuery],
}
let batchSeed = 0

/**
 * A generated batch made valid in the account's state: each operation keeps its kind, names a
 * fresh task or list of the caller (not a made-up id), and carries a valid body of its single
 * route, made valid in the same way (`inState`). `complete` goes to tasks, the only ones that have it.
 */
async function batchInState(api: TestApp, token: string, user: string, body: { operations?: unknown }) {
  const generated = Array.isArray(body.operations) ? (body.operations as Record<string, unknown>[]) : []
  const operations: Record<string, unknown>[] = []
  for (const operation of generated) {
    const op = String(operation.op)
    const type = op === 'complete' || op === 'restore' ? 'task' : String(operation.type)
    const route = SINGLE_ROUTES[`${type} ${op}`]
    if (!route) throw new Error(`no single route for a batch's ${type} ${op}`)
    const [path, schema] = route
    const single = { path } as RouteInfo
    const data = schema ? await inState(api, token, user, single, sampleOf(schema, ++batchSeed)) : undefined
    if (op === 'create') operations.push({ op, type, data })
    else operations.push({ op, type, id: await targetFor(api, token, user, single), data })
  }
  return { operations }
}
