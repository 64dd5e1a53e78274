// Baselines `floor-*`: the app's own SQL for four routes, straight through postgres.js from a
// bare Bun.serve handler: no framework, validation, auth, logging or transaction around it.
// Each answers the request the app's scenario sends, with the same status and JSON shape.
//   GET   /api/:user/tasks               floor-db:     the list page (20 + 1 rows, with the change counter)
//   GET   /api/:user/tasks/:id           floor-get:    one task
//   POST  /api/:user/tasks               floor-insert: one insert (the database's triggers still run)
//   PATCH /api/:user/tasks/:id/complete  floor-update: one update flipping `completed`
import postgres from 'postgres'

const sql = postgres(Bun.env.DATABASE_URL as string, { max: Number(Bun.env.POOL_SIZE ?? 10), onnotice: () => {} })
const ROUTE = /^\/api\/([^/]+)\/tasks(?:\/(\d+)(\/complete)?)?$/
// What the app reads of a task (all columns but those only queries use).
const COLUMNS = sql`id, user_id, title, description, completed, created_at, updated_at, priority, tags, due_date,
  due_at, completed_at, list_id, parent_id, position, outline, subtask_count, completed_subtask_count, version, recurrence,
  coalesce((
    select jsonb_agg(jsonb_build_object('id', r.id, 'at', r.at, 'before', r.before, 'fire_at', r.fire_at) order by r.id)
    from reminders r where r.task_id = tasks.id and r.user_id = tasks.user_id
  ), '[]'::jsonb) as reminders`

async function answer(request: Request): Promise<Response> {
  const match = ROUTE.exec(new URL(request.url).pathname)
  if (!match) return new Response('not found', { status: 404 })
  const user = decodeURIComponent(match[1] as string)
  const id = match[2] === undefined ? undefined : Number(match[2])
  if (request.method === 'GET' && id === undefined) {
    const rows = await sql`
      select ${COLUMNS}, (select sync_seq from users where id = ${user}) as counter
      from tasks where user_id = ${user}
      order by created_at desc, id desc limit 21`
    return Response.json(rows.slice(0, 20))
  }
  if (request.method === 'GET') {
    const [row] = await sql`select ${COLUMNS} from tasks where id = ${id as number} and user_id = ${user}`
    return row ? Response.json(row) : new Response('not found', { status: 404 })
  }
  if (request.method === 'POST' && id === undefined) {
    const body = (await request.json()) as { title: string; priority: string; tags: string[]; due_date: string }
    const [row] = await sql`
      insert into tasks (user_id, title, priority, tags, tag_keys, due_date)
      values (${user}, ${body.title}, ${body.priority}, ${body.tags}, ${body.tags.map((t) => t.toLowerCase())},
              ${body.due_date})
      returning ${COLUMNS}`
    return Response.json(row, { status: 201 })
  }
  if (request.method === 'PATCH' && match[3]) {
    const [row] = await sql`
      update tasks set completed = not completed,
        completed_at = case when completed then null else now() end, updated_at = now()
      where id = ${id as number} and user_id = ${user}
      returning ${COLUMNS}`
    return row ? Response.json(row) : new Response('not found', { status: 404 })
  }
  return new Response('not found', { status: 404 })
}

const server = Bun.serve({ port: Number(Bun.env.PORT), fetch: answer })
console.log(JSON.stringify({ msg: 'listening', port: server.port }))
process.on('SIGTERM', async () => {
  server.stop()
  await sql.end()
  process.exit(0)
})
