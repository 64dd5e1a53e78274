import { expect } from 'bun:test'
import { type Client, expectStatus, json, type TestApp } from './app'

/** The typed client's task routes of one user: `tasksOf(api, token, 'alice').post({ title })`. */
export const tasksOf = (api: TestApp, token: string, user: string) => api.as(token).api({ user_id: user }).tasks

type TasksRoute = ReturnType<Client['api']>['tasks']
/** A create body as the contract types it. */
export type NewTask = Parameters<TasksRoute['post']>[0]
/** An update body (PUT and PATCH) as the contract types it. */
export type UpdateTask = Parameters<ReturnType<TasksRoute>['patch']>[0]
/** A task as the contract types it. */
export type TaskOut = NonNullable<Awaited<ReturnType<TasksRoute['post']>>['data']>
/** The list route's query as the contract types it. */
export type ListQuery = NonNullable<NonNullable<Parameters<TasksRoute['get']>[0]>['query']>
/** What the list route answers through the typed client. */
export type ListResult = Awaited<ReturnType<TasksRoute['get']>>

/** Creates a task through the typed client and returns it (asserting the 201). */
export async function createTask(api: TestApp, token: string, user: string, body: NewTask) {
  return expectStatus(await tasksOf(api, token, user).post(body), 201)
}

export const nextLink = (res: Response) => res.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1] ?? null

/**
 * Every task of a listing, following Link rel="next" to the end; every page must be a 200 of
 * at most `limit`. The first page is a path (sent as it is) or a typed client's answer; the
 * links after it are sent as the server wrote them.
 */
export async function listAll(api: TestApp, token: string, first: string | ListResult, limit?: number) {
  const all: TaskOut[] = []
  let next: string | null = typeof first === 'string' ? first : null
  const take = (page: TaskOut[], res: Response) => {
    if (limit !== undefined) expect(page.length).toBeLessThanOrEqual(limit)
    all.push(...page)
    next = nextLink(res)
  }
  if (typeof first !== 'string') take(expectStatus(first, 200), first.response)
  let pages = 0
  while (next) {
    const res = await api.request('GET', next, { token })
    if (res.status !== 200) throw new Error(`${next} answered ${res.status}: ${await res.text()}`)
    take(await json<TaskOut[]>(res), res)
    if (++pages > 1000) throw new Error('too many pages')
  }
  return all
}

/** Titles of every task a listing returns, in order, across all pages. */
export const titlesOf = async (api: TestApp, token: string, first: string | ListResult) =>
  (await listAll(api, token, first)).map((t) => t.title)

/** Today's calendar date in an IANA zone, as YYYY-MM-DD. */
export function todayIn(tz: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    now,
  )
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}
