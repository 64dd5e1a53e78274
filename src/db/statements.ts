import type { Db } from './client'

export interface Statement<R> {
  execute(values?: Record<string, unknown>): Promise<R>
}

const MAX_PER_CLIENT = 1_000
const byClient = new WeakMap<object, Map<string, Statement<unknown>>>()

/**
 * A query built and prepared once per `key` (its shape), then only given values: building SQL
 * text with drizzle costs more than running the query. Statements are kept per database
 * client, so a connection pool that was replaced gets statements of its own.
 */
export function statement<R>(db: Db, key: string, build: () => { prepare(name: string): Statement<R> }): Statement<R> {
  const client = (db as unknown as { $client?: object }).$client
  // A transaction has no client of its own: its statements are prepared on its connection.
  if (client === undefined) return build().prepare(key.replace(/\W+/g, '_').slice(0, 60))
  let cache = byClient.get(client)
  if (!cache) {
    cache = new Map()
    byClient.set(client, cache)
  }
  let prepared = cache.get(key) as Statement<R> | undefined
  if (!prepared) {
    prepared = build().prepare(key.replace(/\W+/g, '_').slice(0, 60))
    if (cache.size < MAX_PER_CLIENT) cache.set(key, prepared)
  }
  return prepared
}
