import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { TEST_SECRET } from '../support/app'
import { createScratchDatabase, DROP_TIMEOUT_MS, type ScratchDatabase, TEST_DATABASE_URL } from '../support/database'
import { freePort, type RunningServer, rawRequest, startServer, TcpProxy, TODO_API } from '../support/processes'

// Several server processes against one database, and a database that fails under a running
// server: both need a PostgreSQL server (the embedded database serves one process and has no
// network to fail), so these run in the TEST_DATABASE_URL pass.
const onPostgres = describe.skipIf(!TEST_DATABASE_URL)

const baseEnv = (databaseUrl: string, extra: Record<string, string> = {}) => ({
  BETTER_AUTH_SECRET: TEST_SECRET,
  DATA_DIR: mkdtempSync(join(tmpdir(), 'todo-api-deploy-')),
  DATABASE_URL: databaseUrl,
  PORT: '0',
  ...extra,
})

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

interface Session {
  token: string
  refresh_token: string
  user: { id: string }
}

async function register(base: string, email: string) {
  const res = await fetch(`${base}/api/auth/register`, json({ email, password: 'long enough pw', name: 'N' }))
  return { status: res.status, body: (await res.json()) as Session }
}

/** A fresh database for the suite's tests, created before and dropped after them. */
function scratchDatabasePerSuite(): () => ScratchDatabase {
  let scratch: ScratchDatabase | undefined
  beforeAll(async () => {
    scratch = await createScratchDatabase()
  })
  afterAll(() => scratch?.drop(), DROP_TIMEOUT_MS)
  return () => scratch as ScratchDatabase
}

/** The "listening" log lines of a supervisor's workers, once `count` of them have started. */
async function workersListening(supervisor: RunningServer, count: number): Promise<{ port: number; pid: number }[]> {
  const listening = () => supervisor.lines.filter((l) => l.includes('"msg":"listening"')).map((l) => JSON.parse(l))
  for (let i = 0; i < 100 && listening().length < count; i++) await Bun.sleep(100)
  return listening()
}

async function stop(server: RunningServer) {
  server.proc.kill('SIGTERM')
  return server.proc.exited
}

onPostgres('several instances on one fresh database', () => {
  const scratch = scratchDatabasePerSuite()

  test('started at the same moment: all come up, migrations run once, data and the login limit are shared', async () => {
    const env = baseEnv(scratch().url as string, { LOGIN_MAX_FAILURES: '2' })
    const servers = await Promise.all([startServer(env), startServer(env), startServer(env)])
    try {
      const sql = postgres(scratch().url as string, { max: 1, onnotice: () => {} })
      const [row] = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`
      const shipped = (await Bun.file(join(import.meta.dir, '../../drizzle/meta/_journal.json')).json()).entries.length
      expect(row?.n).toBe(shipped)
      await sql.end()

      const [a, b, c] = servers.map((s) => `http://127.0.0.1:${s.port}`) as [string, string, string]
      const { body: session } = await register(a, 'shared@example.com')
      const auth = { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' }
      const created = await fetch(`${a}/api/${session.user.id}/tasks`, {
        method: 'POST',
        headers: auth,
        body: '{"title":"via a"}',
      })
      expect(created.status).toBe(201)
      const listed = (await (await fetch(`${b}/api/${session.user.id}/tasks`, { headers: auth })).json()) as {
        title: string
      }[]
      expect(listed.map((t) => t.title)).toEqual(['via a'])

      const wrong = { email: 'shared@example.com', password: 'not the password' }
      expect((await fetch(`${a}/api/auth/login`, json(wrong))).status).toBe(401)
      expect((await fetch(`${b}/api/auth/login`, json(wrong))).status).toBe(401)
      const blocked = await fetch(`${c}/api/auth/login`, json({ ...wrong, password: 'long enough pw' }))
      expect(blocked.status).toBe(429)
    } finally {
      expect(await Promise.all(servers.map(stop))).toEqual([0, 0, 0])
    }
  }, 60_000)
})

onPostgres('WORKERS=2', () => {
  const scratch = scratchDatabasePerSuite()

  test('a supervisor runs two workers on one port, and SIGTERM drains them all and exits 0', async () => {
    const port = freePort()
    const supervisor = await startServer(baseEnv(scratch().url as string, { WORKERS: '2', PORT: String(port) }), {
      waitFor: '"msg":"supervising"',
    })
    const listening = await workersListening(supervisor, 2)
    const workers = listening
    expect(workers).toHaveLength(2)
    expect(workers.map((w) => w.port)).toEqual([port, port])
    expect(new Set(workers.map((w) => w.pid)).size).toBe(2)

    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${port}/ready`)))
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200))

    expect(await stop(supervisor)).toBe(0)
    for (const { pid } of workers) expect(() => process.kill(pid, 0)).toThrow()
    expect(supervisor.lines.filter((l) => l.includes('"msg":"stopped"'))).toHaveLength(2)
  }, 60_000)
})

onPostgres('supervisor failures', () => {
  const scratch = scratchDatabasePerSuite()

  test('workers that keep failing at start (port taken): the supervisor gives up and exits 1', async () => {
    const blocker = Bun.serve({ port: 0, hostname: '0.0.0.0', fetch: () => new Response('taken') })
    try {
      const env = baseEnv(scratch().url as string, { WORKERS: '2', PORT: String(blocker.port) })
      const supervisor = Bun.spawn([...TODO_API], {
        env: { PATH: Bun.env.PATH ?? '', ...env },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const code = await Promise.race([supervisor.exited, Bun.sleep(40_000).then(() => 'still running')])
      supervisor.kill('SIGKILL')
      expect(code).toBe(1)
      expect(await new Response(supervisor.stdout).text()).toContain('keeps failing at start')
    } finally {
      blocker.stop(true)
    }
  }, 60_000)

  test('workers of a supervisor killed outright stop by themselves', async () => {
    const port = freePort()
    const supervisor = await startServer(baseEnv(scratch().url as string, { WORKERS: '2', PORT: String(port) }), {
      waitFor: '"msg":"supervising"',
    })
    const listening = await workersListening(supervisor, 2)
    expect(listening).toHaveLength(2)
    supervisor.proc.kill('SIGKILL')
    let alive = listening.map((w) => w.pid as number)
    for (let i = 0; i < 100 && alive.length > 0; i++) {
      await Bun.sleep(100)
      alive = alive.filter((pid) => {
        try {
          process.kill(pid, 0)
          return true
        } catch {
          return false
        }
      })
    }
    expect(alive).toEqual([])
  }, 60_000)
})

onPostgres('database faults', () => {
  let scratch: ScratchDatabase
  let proxy: TcpProxy
  let server: RunningServer
  let base: string
  let session: { token: string; user: { id: string } }

  beforeAll(async () => {
    scratch = await createScratchDatabase()
    const target = new URL(scratch.url as string)
    proxy = new TcpProxy({ hostname: target.hostname, port: Number(target.port || 5432) })
    proxy.start()
    target.port = String(proxy.port)
    server = await startServer(baseEnv(target.toString(), { REQUEST_TIMEOUT: '2' }))
    base = `http://127.0.0.1:${server.port}`
    session = (await register(base, 'faults@example.com')).body
  }, 60_000)
  afterAll(async () => {
    await stop(server)
    proxy.stop()
    await scratch.drop()
  }, 30_000)

  const listTasks = () =>
    fetch(`${base}/api/${session.user.id}/tasks`, { headers: { authorization: `Bearer ${session.token}` } })

  async function timed(request: () => Promise<Response>) {
    const started = performance.now()
    const res = await request()
    return { res, ms: performance.now() - started }
  }

  async function recovers() {
    for (let i = 0; i < 50; i++) {
      if (server.proc.exitCode !== null) throw new Error(`server exited ${server.proc.exitCode}: ${server.stderr()}`)
      if ((await listTasks()).status === 200 && (await fetch(`${base}/ready`)).status === 200) return true
      await Bun.sleep(200)
    }
    return false
  }

  test('connections refused: every request answers 503 within 200 ms, /ready too; back within 2 s, no restart', async () => {
    expect((await listTasks()).status).toBe(200)
    const loggedBefore = server.lines.length
    proxy.cut()
    // One after another, then all at once.
    const answers = []
    for (let i = 0; i < 20; i++) answers.push(await timed(listTasks))
    answers.push(...(await Promise.all(Array.from({ length: 20 }, () => timed(listTasks)))))
    for (const { res, ms } of answers) {
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBeTruthy()
      expect(((await res.json()) as { code: string }).code).toBe('service_unavailable')
      expect(ms).toBeLessThan(200)
    }
    const ready = await timed(() => fetch(`${base}/ready`))
    expect(ready.res.status).toBe(503)
    expect(ready.ms).toBeLessThan(200)
    expect((await fetch(`${base}/health`)).status).toBe(200)
    // The outage is logged once, not once per request.
    const logged = server.lines.slice(loggedBefore).filter((l) => !l.includes('"msg":"request"'))
    expect(logged.filter((l) => l.includes('database unreachable'))).toHaveLength(1)
    expect(logged.length).toBeLessThan(10)

    proxy.restore()
    const restored = performance.now()
    let backAfter = Number.POSITIVE_INFINITY
    while (performance.now() - restored < 10_000) {
      if ((await listTasks()).status === 200) {
        backAfter = performance.now() - restored
        break
      }
      await Bun.sleep(20)
    }
    expect(backAfter).toBeLessThan(2000)
    expect((await fetch(`${base}/ready`)).status).toBe(200)
    expect(server.lines.some((l) => l.includes('database reachable again'))).toBe(true)
  }, 30_000)

  test('database stops answering: 503 within the request deadline, no hang; recovery after', async () => {
    proxy.stall()
    const [{ res, ms }, ready] = await Promise.all([timed(listTasks), timed(() => fetch(`${base}/ready`))])
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBeTruthy()
    expect(ms).toBeGreaterThan(1500)
    expect(ms).toBeLessThan(4000)
    expect(ready.res.status).toBe(503)
    expect(server.lines.some((l) => l.includes('request deadline passed'))).toBe(true)
    // Once the pool is found not answering, the next requests need not wait for the deadline.
    for (let i = 0; i < 30 && !server.lines.some((l) => l.includes('connection pool replaced')); i++)
      await Bun.sleep(100)
    const next = await timed(listTasks)
    expect(next.res.status).toBe(503)
    expect(next.ms).toBeLessThan(200)
    proxy.restore()
    expect(await recovers()).toBe(true)
  }, 30_000)

  test('a failover leaving old connections silent: 503 by the deadline, then recovery by itself', async () => {
    // Warm the pool so that several connections exist when they go silent.
    await Promise.all(Array.from({ length: 20 }, listTasks))
    proxy.silenceExisting()
    const { res, ms } = await timed(listTasks)
    expect(res.status).toBe(503)
    expect(ms).toBeLessThan(4000)
    // No restore: only new connections work, so recovering means the pool was replaced.
    expect(await recovers()).toBe(true)
    expect(server.lines.some((l) => l.includes('connection pool replaced'))).toBe(true)
  }, 30_000)

  test('a client trickling its body past the deadline gets 503 but leaves a healthy pool alone', async () => {
    await Bun.sleep(5500) // past the interval between pool replacements
    const replacedBefore = server.lines.filter((l) => l.includes('connection pool replaced')).length
    const body = new ReadableStream({
      async start(controller) {
        for (const piece of ['{"email":', '"slow@example.com",', '"password":"x"}']) {
          controller.enqueue(new TextEncoder().encode(piece))
          await Bun.sleep(1200)
        }
        controller.close()
      },
    })
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(503)
    await Bun.sleep(1500) // the pool check takes up to a second
    expect(server.lines.filter((l) => l.includes('connection pool replaced')).length).toBe(replacedBefore)
    expect((await listTasks()).status).toBe(200)
  }, 30_000)

  test('a cut in the middle of many sign-ups leaves no half-written account', async () => {
    const sql = postgres(scratch.url as string, { max: 1, onnotice: () => {} })
    // A steady stream of sign-ups that runs across the cut: some finish before it, some are
    // caught mid-way, and the ones sent after it must fail. (A single burst could all commit
    // in the few milliseconds before the cut.) The cut waits for three answered sign-ups, not
    // for three rows: a row can be committed while its answer is still on the wire.
    const attempts: Promise<{ status: number } | null>[] = []
    let answered = 0
    let cutAt = 0
    for (let i = 0; i < 300 && (cutAt === 0 || performance.now() - cutAt < 150); i++) {
      attempts.push(
        register(base, `storm${i}@example.com`).then(
          (res) => {
            if (res.status === 201) answered++
            return res
          },
          () => null,
        ),
      )
      await Bun.sleep(10)
      if (cutAt === 0 && answered >= 3) {
        proxy.cut()
        cutAt = performance.now()
      }
    }
    expect(cutAt).toBeGreaterThan(0)
    const statuses = (await Promise.all(attempts)).map((a) => a?.status ?? 0)
    proxy.restore()
    expect(await recovers()).toBe(true)
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(3)
    expect(statuses.filter((s) => s !== 201).length).toBeGreaterThan(0)
    const orphans = await sql`
      select u.id from users u
      where u.email like 'storm%' and not exists (select 1 from sessions s where s.user_id = u.id)`
    const tokensWithoutSession = await sql`
      select count(*)::int as n from refresh_tokens r where not exists (select 1 from sessions s where s.id = r.session_id)`
    await sql.end()
    expect(orphans).toHaveLength(0)
    expect(tokensWithoutSession[0]?.n).toBe(0)
  }, 30_000)
})

onPostgres("a request deadline longer than the server's default idle timeout (10 s)", () => {
  const scratch = scratchDatabasePerSuite()

  test('requests stalled on the database get their 503 at REQUEST_TIMEOUT=12s, not a closed connection', async () => {
    const target = new URL(scratch().url as string)
    const proxy = new TcpProxy({ hostname: target.hostname, port: Number(target.port || 5432) })
    proxy.start()
    target.port = String(proxy.port)
    const server = await startServer(baseEnv(target.toString(), { REQUEST_TIMEOUT: '12' }))
    try {
      const base = `http://127.0.0.1:${server.port}`
      const { body: session } = await register(base, 'patient@example.com')
      const headers = { authorization: `Bearer ${session.token}` }
      // Every pooled connection open, so the stalled requests wait on connections that exist
      // (a new one would fail on its connect timeout before the deadline).
      await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/api/${session.user.id}/tasks`, { headers })))
      proxy.stall()
      const request = `GET /api/${session.user.id}/tasks HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${session.token}\r\nConnection: close\r\n\r\n`
      const answers = await Promise.all(Array.from({ length: 3 }, () => rawRequest(server.port, request)))
      expect(answers.map((a) => a.status)).toEqual([503, 503, 503])
      for (const { ms } of answers) expect(ms).toBeGreaterThan(11_500)
    } finally {
      proxy.restore()
      await stop(server)
      proxy.stop()
    }
  }, 60_000)
})
