// Smoke test of the compiled binary, as a user runs it: copied alone into an empty directory,
// on the embedded database or on PostgreSQL (when given a server URL). Prints one line
// `smoke (<database>): N passed, N failed` and exits non-zero on any failure.
//
//   bun scripts/smoke-binary.ts dist/todo-api [postgres://postgres@127.0.0.1:5432/postgres]
import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import postgres from 'postgres'

const [binaryArg, serverUrl] = Bun.argv.slice(2)
if (!binaryArg) {
  console.error('usage: bun scripts/smoke-binary.ts <binary> [postgres-server-url]')
  process.exit(2)
}
const label = serverUrl ? 'postgres' : 'embedded'
const dir = mkdtempSync(join(tmpdir(), 'todo-api-smoke-'))
const binary = join(dir, 'todo-api')
copyFileSync(resolve(binaryArg), binary)

let passed = 0
let failed = 0
function check(name: string, ok: boolean, detail = '') {
  if (ok) passed++
  else failed++
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : `: ${detail}`}`)
}

let databaseUrl: string | undefined
let dropDatabase = async () => {}
if (serverUrl) {
  const name = `todo_smoke_${process.pid}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  databaseUrl = url.toString()
  dropDatabase = async () => {
    const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} })
    await dropper.unsafe(`drop database if exists "${name}" with (force)`)
    await dropper.end()
  }
}

const port = 20000 + Math.floor(Math.random() * 20000)
const env = {
  PATH: Bun.env.PATH ?? '',
  PORT: String(port),
  BETTER_AUTH_SECRET: 'smoke-test-secret-that-is-long-enough-123',
  ...(databaseUrl && { DATABASE_URL: databaseUrl }),
}
const server = Bun.spawn([binary], { cwd: dir, env, stdout: 'pipe', stderr: 'pipe' })
const base = `http://127.0.0.1:${port}`

try {
  check('--version prints the version', /^\d+\.\d+\.\d+/.test(Bun.spawnSync([binary, '--version']).stdout.toString()))
  check('an unknown argument exits 2', Bun.spawnSync([binary, '--nope'], { stderr: 'pipe' }).exitCode === 2)

  let health = 0
  for (let i = 0; i < 300 && health !== 200; i++) {
    health = await fetch(`${base}/health`).then(
      (r) => r.status,
      () => 0,
    )
    if (health !== 200) await Bun.sleep(100)
  }
  check('serves /health', health === 200)
  check('/ready', (await fetch(`${base}/ready`)).status === 200)

  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    })
  const registered = await post('/api/auth/register', {
    email: 'smoke@example.com',
    password: 'smoke test pw',
    name: 'S',
  })
  check('register', registered.status === 201, String(registered.status))
  const { token, user } = await registered.json()
  const tasks = `/api/${user?.id}/tasks`
  const created = await post(tasks, { title: 'smoke' }, token)
  check('create', created.status === 201, String(created.status))
  const task = await created.json()
  const auth = { authorization: `Bearer ${token}` }
  const list = await (await fetch(`${base}${tasks}`, { headers: auth })).json()
  check('list', Array.isArray(list) && list.length === 1 && list[0].title === 'smoke')
  const completed = await fetch(`${base}${tasks}/${task.id}/complete`, { method: 'PATCH', headers: auth })
  check('complete', completed.status === 200 && (await completed.json()).completed === true)
  const deleted = await fetch(`${base}${tasks}/${task.id}`, { method: 'DELETE', headers: auth })
  check('delete', deleted.status === 204)
  // The minified binary does not enforce Elysia's schema bounds on ids: the route must.
  const send = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...auth, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => r.status)
  const beyond = `${tasks}/2147483648`
  const idStatuses = [
    await send('GET', beyond),
    await send('PUT', beyond, { title: 'x' }),
    await send('PATCH', beyond, { title: 'x' }),
    await send('DELETE', beyond),
    await send('PATCH', `${beyond}/complete`),
  ]
  check(
    'an id past the stored range is a 404 on every task route',
    idStatuses.every((s) => s === 404),
    `${idStatuses}`,
  )
  const rawPost = (body: string) =>
    fetch(`${base}${tasks}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body })
  check('a lone surrogate in a title is a 400', (await rawPost('{"title":"\\ud800"}')).status === 400)
  const started = performance.now()
  const deep = await rawPost(`${'['.repeat(30_000)}${']'.repeat(30_000)}`)
  const elapsed = performance.now() - started
  check(
    'a body nested 30,000 deep is a 400 at once',
    deep.status === 400 && elapsed < 1000,
    `${deep.status}, ${elapsed} ms`,
  )
  check('swagger UI assets', (await fetch(`${base}/swagger/assets/swagger-ui-bundle.js`)).status === 200)

  server.kill('SIGTERM')
  const code = await Promise.race([server.exited, Bun.sleep(15_000).then(() => 'timeout')])
  check('SIGTERM exits 0', code === 0, String(code))
} catch (error) {
  check('no unexpected error', false, String(error))
} finally {
  server.kill('SIGKILL')
  await dropDatabase()
}
if (failed > 0) console.log(await new Response(server.stderr).text())
console.log(`smoke (${label}): ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
