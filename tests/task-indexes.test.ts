import { expect, test } from 'bun:test'
import { fillPlaceholders, type SQL, sql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { type Db, queryRows } from '../src/db/client'
import { type ListOptions, listQuery, listValues } from '../src/modules/tasks/list'
import type { TaskFilters } from '../src/modules/tasks/list-query'
import { sharedDatabase, TEST_DATABASE_URL } from './support/database'

const TASKS = 20_000

// One user with 20,000 tasks among others, seeded set-wise: priorities, tags, dates, instants,
// completions and words vary with the row number.
async function seed() {
  const { database } = await sharedDatabase()
  const { db } = database
  await db.execute(sql`insert into users (id) select 'u' || n from generate_series(0, 5) n`)
  await db.execute(sql`
    insert into tasks (user_id, title, description, completed, completed_at, priority, tags, tag_keys, due_date, due_at, position)
    select case when n <= ${TASKS} then 'u0' else 'u' || (1 + n % 5) end,
           (array['Meeting', 'Invoice', 'Groceries', 'Report', 'Call'])[1 + n % 5] || ' ' || n,
           case when n % 3 = 0 then 'notes about item ' || n end,
           n % 4 = 0, case when n % 4 = 0 then now() - n * interval '1 minute' end,
           (array['low', 'medium', 'high'])[1 + n % 3]::task_priority,
           array['Tag' || (n % 50), 'tag' || (n % 7 + 100)], array['tag' || (n % 50), 'tag' || (n % 7 + 100)],
           case when n % 5 = 1 then current_date + (n % 400 - 200) end,
           case when n % 5 = 2 then now() + (n % 400 - 200) * interval '1 hour' end,
           'e' || lpad(n::text, 5, '0')
    from generate_series(1, ${TASKS + 5_000}) n`)
  await db.execute(sql`analyze tasks`)
  return db
}

type Raw = (text: string, params: unknown[]) => Promise<Record<string, string>[] | { rows: Record<string, string>[] }>

/** The plan of the list's own SQL text, given the values a request would bind to it. */
async function explain(db: Db, query: SQL, values: Record<string, unknown>) {
  const { sql: text, params } = new PgDialect().sqlToQuery(query)
  const client = (db as unknown as { $client: { unsafe?: Raw; query?: Raw } }).$client
  const run = (client.unsafe ?? client.query)?.bind(client) as Raw
  const result = await run(`explain ${text}`, fillPlaceholders(params, values))
  const rows = Array.isArray(result) ? result : result.rows
  return rows.map((r) => Object.values(r)[0]).join('\n')
}

const filters = (more: Partial<TaskFilters> = {}): TaskFilters => ({ status: 'all', tz: 'Europe/Berlin', ...more })
const options = (more: Partial<ListOptions> = {}): ListOptions => ({
  filters: filters(),
  sort: { key: 'created', direction: 'desc' },
  limit: 100,
  ...more,
})

/** The cases, for the seeded user's list `list` (its Inbox, which holds all its tasks). */
const cases = (list: number): [string, ListOptions][] => [
  ['the first page', options()],
  ['a later page', options({ after: { value: new Date().toISOString(), id: 10_000 } })],
  ['a search for common words', options({ filters: filters({ words: ['invoice', 'not'] }) })],
  ['a search for a rare word', options({ filters: filters({ words: ['item', '12345'] }) })],
  [
    'a search sorted by title',
    options({ filters: filters({ words: ['meet'] }), sort: { key: 'title', direction: 'asc' } }),
  ],
  ['a tag', options({ filters: filters({ tags: { keys: ['tag7'], mode: 'all' } }) })],
  ['any of two tags', options({ filters: filters({ tags: { keys: ['tag7', 'tag8'], mode: 'any' } }) })],
  ['overdue', options({ filters: filters({ overdue: true }) })],
  [
    'overdue, soonest due first',
    options({ filters: filters({ overdue: true }), sort: { key: 'due_date', direction: 'asc' } }),
  ],
  // Outline order, for one list (the user's Inbox holds them all) and across lists.
  [
    'sort=position in one list',
    options({ filters: filters({ listId: list }), sort: { key: 'position', direction: 'asc' } }),
  ],
  [
    'sort=position in one list, a later page',
    options({
      filters: filters({ listId: list }),
      sort: { key: 'position', direction: 'asc' },
      after: { value: `${String(list).padStart(10, '0')}/e00100`, id: 10 },
    }),
  ],
  [
    'subtasks of one task in outline order',
    options({ filters: filters({ parentId: 5 }), sort: { key: 'position', direction: 'asc' } }),
  ],
  ...(['updated', 'title', 'due_date', 'priority', 'completed_at', 'position'] as const).flatMap((key) =>
    (['asc', 'desc'] as const).map((direction): [string, ListOptions] => [
      `sort=${key}&order=${direction}`,
      options({ sort: { key, direction } }),
    ]),
  ),
]

test(`with ${TASKS} tasks of one user, list, search, tag filters, overdue and every sort use an index`, async () => {
  const db = await seed()
  const [inbox] = await queryRows<{ id: number }>(db, sql`select id from lists where user_id = 'u0'`)
  const problems: string[] = []
  for (const [name, o] of cases(inbox?.id as number)) {
    const plan = await explain(db, listQuery(db, o, 'valued').getSQL(), listValues('u0', o, o.limit + 1))
    if (!/Index|Bitmap/.test(plan) || /Seq Scan on tasks/.test(plan)) problems.push(`${name}:\n${plan}`)
    // A plain sort must come straight off an index, not from sorting all 20,000 rows.
    if (name.startsWith('sort=') && /\bSort\b/.test(plan)) problems.push(`${name} sorts:\n${plan}`)
  }
  expect(problems).toEqual([])
}, 120_000)

test.skipIf(!TEST_DATABASE_URL)(
  'pooled connections plan every run for its own values, so a prepared search never falls back to a generic plan',
  async () => {
    const { database } = await sharedDatabase()
    // Prepared statements switch to one generic plan after five runs unless told otherwise;
    // for a search that generic plan scanned every user's matches (measured: 92 req/s instead
    // of 2,000 in the benchmark).
    const [row] = await queryRows<{ mode: string }>(database.db, sql`select current_setting('plan_cache_mode') as mode`)
    expect(row?.mode).toBe('force_custom_plan')
  },
)
