import { expect } from 'bun:test'
import type { TestApp } from './app'

export interface TaskOut {
  id: number
  title: string
  description: string | null
  completed: boolean
  created_at: string
  updated_at: string
  priority: 'low' | 'medium' | 'high'
  tags: string[]
  due_date: string | null
  completed_at: string | null
}

/** Creates a task through the API and returns it (asserting the 201). */
export async function createTask(api: TestApp, token: string, user: string, body: Record<string, unknown>) {
  const res = await api.request('POST', `/api/${user}/tasks`, { token, body })
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`)
  return (await res.json()) as TaskOut
}

export const nextLink = (res: Response) => res.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1] ?? null

/** Follows Link rel="next" from `path` to the end; every page must be a 200 of at most `limit`. */
export async function listAll(api: TestApp, token: string, path: string, limit?: number) {
  const all: TaskOut[] = []
  let next: string | null = path
  let pages = 0
  while (next) {
    const res = await api.request('GET', next, { token })
    if (res.status !== 200) throw new Error(`${next} answered ${res.status}: ${await res.text()}`)
    const page = (await res.json()) as TaskOut[]
    if (limit !== undefined) expect(page.length).toBeLessThanOrEqual(limit)
    all.push(...page)
    next = nextLink(res)
    if (++pages > 1000) throw new Error('too many pages')
  }
  return all
}

/** Titles of every task a query returns, in order, across all pages. */
export const titlesOf = async (api: TestApp, token: string, path: string) =>
  (await listAll(api, token, path)).map((t) => t.title)

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
