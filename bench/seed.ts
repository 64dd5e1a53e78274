import type { Sql } from 'postgres'

export interface SeedPlan {
  users: number
  tasksPerUser: number
  bigUserTasks: number
}

export const userId = (i: number) => `bench-user-${String(i).padStart(4, '0')}`
export const userEmail = (i: number) => `user${String(i).padStart(4, '0')}@bench.test`
export const BIG_USER = 'bench-big'
export const BIG_LISTS = 50
export const PASSWORD = 'bench-password-123'
export const WORDS = [
  'meeting',
  'invoice',
  'groceries',
  'report',
  'call',
  'review',
  'deploy',
  'garden',
  'dentist',
  'taxes',
]
const TAGS = ['work', 'home', 'errands', 'urgent', 'later', 'family', 'health', 'money', 'ideas', 'travel']

// `count` tasks numbered n = 1..count, set-wise: titles of two vocabulary words and the number,
// a description on every third, two tags, every priority, a third of due values dates and a
// third instants (half of each in the past), every fourth task completed; newest last.
function insertTasks(sql: Sql, owner: ReturnType<Sql>, count: number) {
  const words = sql`${sql.array(WORDS)}::text[]`
  const tags = sql`${sql.array(TAGS)}::text[]`
  return sql`
    insert into tasks (user_id, title, description, completed, completed_at, priority, tags, tag_keys,
                       due_date, due_at, created_at, updated_at, position)
    select ${owner},
           initcap((${words})[1 + n % 10]) || ' ' || (${words})[1 + (n / 10) % 10] || ' ' || n,
           case when n % 3 = 0 then 'Notes about ' || (${words})[1 + (n / 7) % 10] end,
           n % 4 = 0,
           case when n % 4 = 0 then now() - n * interval '1 second' end,
           (array['low', 'medium', 'high'])[1 + n % 3]::task_priority,
           array[initcap((${tags})[1 + n % 10]), (${tags})[1 + (n / 10) % 10]],
           array[(${tags})[1 + n % 10], (${tags})[1 + (n / 10) % 10]],
           case when n % 3 = 1 then current_date + (n % 60 - 30) end,
           case when n % 3 = 2 then now() + (n % 60 - 30) * interval '1 day' end,
           now() - (${count} - n) * interval '1 millisecond',
           now() - (${count} - n) * interval '1 millisecond',
           -- Fractional-indexing keys of one length ("f" and six digits): in order of n.
           'f' || lpad(n::text, 6, '0')
    from generate_series(1, ${count}) n
    order by n`
}

/**
 * The users, their tasks and one user with many, in a few set-based statements. Task ids come
 * out in blocks: user i owns ids i*tasksPerUser+1 .. (i+1)*tasksPerUser; the big user the next.
 */
export async function seed(sql: Sql, plan: SeedPlan, passwordHash: string) {
  await sql`
    insert into users (id, email, name, password_hash)
    select 'bench-user-' || lpad(i::text, 4, '0'), 'user' || lpad(i::text, 4, '0') || '@bench.test',
           'User ' || i, ${passwordHash}
    from generate_series(0, ${plan.users - 1}) i`
  await sql`insert into users (id, name) values (${BIG_USER}, 'Big')`
  const total = plan.users * plan.tasksPerUser
  await insertTasks(sql, sql`'bench-user-' || lpad(((n - 1) / ${plan.tasksPerUser})::text, 4, '0')`, total)
  await insertTasks(sql, sql`${BIG_USER}::text`, plan.bigUserTasks)
  // The big user keeps its tasks in 50 lists: task id t in the list of index t % 50.
  await sql`
    insert into lists (user_id, name, position)
    select ${BIG_USER}, 'List ' || i, 'b' || lpad(i::text, 2, '0') from generate_series(1, ${BIG_LISTS - 1}) i`
  await sql`
    with l as (select id, (row_number() over (order by position, id) - 1)::int as k from lists where user_id = ${BIG_USER})
    update tasks t set list_id = l.id, outline = lpad(l.id::text, 10, '0') || '/' || t.position
    from l where t.user_id = ${BIG_USER} and l.k = t.id % ${BIG_LISTS}`
  await sql`vacuum analyze tasks`
  await sql`vacuum analyze users`
  await sql`vacuum analyze lists`
  const [check] = await sql<{ n: number }[]>`
    select count(*)::int as n from tasks
    where id <= ${total} and user_id = 'bench-user-' || lpad(((id - 1) / ${plan.tasksPerUser})::text, 4, '0')`
  if (check?.n !== total) throw new Error(`task ids are not in blocks per user (${check?.n} of ${total})`)
}
