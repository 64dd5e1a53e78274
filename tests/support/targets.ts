import type { TestApp } from './app'
import { allLists, createList } from './lists'
import type { RouteInfo } from './routes'
import { createTask } from './tasks'

// Valid values of these fields depend on what exists: ids of the caller's other tasks or lists.
// Generated bodies leave them out; tests of their own cover them.
const REFERENCES = ['list_id', 'parent_id', 'after_id', 'before_id']

const isListRoute = (route: RouteInfo) => route.path.includes(':list_id')

/** A fresh row for the route's path to name: a list on list routes, else a task. */
export async function targetFor(api: TestApp, token: string, user: string, route: RouteInfo): Promise<number> {
  if (isListRoute(route)) return (await createList(api, token, user, { name: `target ${crypto.randomUUID()}` })).id
  return (await createTask(api, token, user, { title: 'target' })).id
}

/**
 * A generated body made valid in the account's state: references left out, and a move given a
 * destination that exists (first at top level for a task, after the Inbox for a list).
 */
export async function inState(api: TestApp, token: string, user: string, route: RouteInfo, body: unknown) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body
  const kept = Object.fromEntries(Object.entries(body).filter(([key]) => !REFERENCES.includes(key)))
  if (!route.path.endsWith('/move')) return kept
  if (!isListRoute(route)) return { ...kept, parent_id: null }
  const inbox = (await allLists(api, token, user)).find((l) => l.is_default)
  if (!inbox) throw new Error('the user has no default list')
  return { ...kept, after_id: inbox.id }
}

/**
 * Answers the account's state explains: a list name the generator made may already be taken
 * (409); a well-formed sync token it made was never issued to this account (410).
 */
export const conflictOfState = (route: RouteInfo, status: number) =>
  (status === 409 && route.path.includes('/lists')) || (status === 410 && /\/(changes|events)$/.test(route.path))
