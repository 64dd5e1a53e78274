// Baseline `floor-db`: the app's list query (first page of 20, newest first) straight through
// postgres.js from a bare Bun.serve handler: no framework, validation, auth or logging.
import postgres from 'postgres'

const sql = postgres(Bun.env.DATABASE_URL as string, { max: Number(Bun.env.POOL_SIZE ?? 10), onnotice: () => {} })
const PATH = /^\/api\/([^/]+)\/tasks$/

const server = Bun.serve({
  port: Number(Bun.env.PORT),
  async fetch(request) {
    const user = PATH.exec(new URL(request.url).pathname)?.[1]
    if (!user) return new Response('not found', { status: 404 })
    const rows = await sql`
      select id, user_id, title, description, completed, created_at, updated_at, priority, tags, due_date,
             due_at, completed_at
      from tasks where user_id = ${decodeURIComponent(user)}
      order by created_at desc, id desc limit 21`
    return Response.json(rows.slice(0, 20))
  },
})
console.log(JSON.stringify({ msg: 'listening', port: server.port }))
process.on('SIGTERM', async () => {
  server.stop()
  await sql.end()
  process.exit(0)
})
