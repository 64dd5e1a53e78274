import { sql } from 'drizzle-orm'
import { queryRows } from '../../src/db/client'
import { type Client, expectStatus, type TestApp } from './app'
import { sharedDatabase } from './database'

type ListsRoute = ReturnType<Client['api']>['lists']
/** A list as the contract types it. */
export type ListOut = NonNullable<Awaited<ReturnType<ListsRoute['post']>>['data']>

/** The typed client's list routes of one user. */
export const listsOf = (api: TestApp, token: string, user: string) => api.as(token).api({ user_id: user }).lists

export async function createList(api: TestApp, token: string, user: string, body: Parameters<ListsRoute['post']>[0]) {
  return expectStatus(await listsOf(api, token, user).post(body), 201)
}

export async function allLists(api: TestApp, token: string, user: string) {
  return expectStatus(await listsOf(api, token, user).get(), 200)
}

/** Rows of the run's database, to check what a request left behind. */
export async function dbRows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return queryRows<T>((await sharedDatabase()).database.db, query)
}

/** Each task's list, parent and position as stored. */
export const storedTasks = (user: string) =>
  dbRows<{ id: number; title: string; list_id: number; parent_id: number | null; position: string; outline: string }>(
    sql`select id, title, list_id, parent_id, position, outline from tasks where user_id = ${user} order by id`,
  )
