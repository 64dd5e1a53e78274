// Baseline `floor-http`: Elysia answering a constant, to show what HTTP and routing alone cost.
import { Elysia } from 'elysia'

const TASKS = [{ id: 1, title: 'constant' }]
const app = new Elysia().get('/api/:user_id/tasks', () => TASKS).listen(Number(Bun.env.PORT))
console.log(JSON.stringify({ msg: 'listening', port: app.server?.port }))
process.on('SIGTERM', () => {
  app.stop()
  process.exit(0)
})
