import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signAccessToken } from '../../src/auth/sign-token'
import { json, TEST_SECRET } from '../support/app'
import { sharedDatabase } from '../support/database'
import { rawRequest, TODO_API } from '../support/processes'

/** Environment for a real server process on the backend under test. */
async function serverEnv(): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    PATH: Bun.env.PATH ?? '',
    HOME: Bun.env.HOME ?? '/tmp',
    PORT: '0',
    BETTER_AUTH_SECRET: TEST_SECRET,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'todo-api-server-')),
  }
  const { url } = await sharedDatabase()
  if (url) env.DATABASE_URL = url
  return env
}

async function startServer(extraEnv: Record<string, string> = {}) {
  const proc = Bun.spawn([...TODO_API], {
    env: { ...(await serverEnv()), ...extraEnv },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const reader = proc.stdout.getReader()
  let output = ''
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    output += new TextDecoder().decode(value)
    const listening = output.split('\n').find((l) => l.includes('"msg":"listening"'))
    if (listening) {
      reader.releaseLock()
      return { proc, port: JSON.parse(listening).port as number }
    }
  }
  proc.kill()
  throw new Error(`server did not start: ${output} ${await new Response(proc.stderr).text()}`)
}

/** Sends `request` byte for byte (fetch would not let a test choose the Host) and answers the status code. */
const rawStatus = async (port: number, request: string) => String((await rawRequest(port, request)).status)

describe('server process', () => {
  test('an invalid variable stops start-up with exit 1 and one line naming it', async () => {
    const proc = Bun.spawn([...TODO_API], {
      env: { ...(await serverEnv()), PORT: 'eighty' },
      stderr: 'pipe',
      stdout: 'pipe',
    })
    expect(await proc.exited).toBe(1)
    const lines = (await new Response(proc.stderr).text()).trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('PORT')
  })

  test('a short Host header (a compose service called "api") still reaches the routes', async () => {
    const { proc, port } = await startServer()
    try {
      for (const host of ['api', 'db', 'x', 'api:80']) {
        expect(await rawStatus(port, `GET /ready HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).toBe('200')
      }
    } finally {
      proc.kill('SIGTERM')
      await proc.exited
    }
  }, 40_000)

  test('a request without a usable Host (an HTTP/1.0 health check, an empty or malformed Host) reaches the routes', async () => {
    const { proc, port } = await startServer()
    try {
      const token = await signAccessToken(TEST_SECRET, 'no-host-user', 600)
      const auth = `Authorization: Bearer ${token}\r\n`
      // HAProxy's `option httpchk GET /health` sends HTTP/1.0 without a Host, for one.
      const heads = ['HTTP/1.0\r\n', 'HTTP/1.1\r\nHost: \r\n', 'HTTP/1.1\r\nHost: a?b\r\n', 'HTTP/1.1\r\nHost: ü\r\n']
      const statuses: string[] = []
      for (const head of heads)
        for (const path of ['/health', '/ready', '/api/me/tasks?limit=1'])
          statuses.push(`${path} ${await rawStatus(port, `GET ${path} ${head}${auth}Connection: close\r\n\r\n`)}`)
      expect(statuses).toEqual(heads.flatMap(() => ['/health 200', '/ready 200', '/api/me/tasks?limit=1 200']))
    } finally {
      proc.kill('SIGTERM')
      await proc.exited
    }
  }, 40_000)

  test('with a short Host header the per-address login limit still applies', async () => {
    const { proc, port } = await startServer({ LOGIN_MAX_FAILURES_PER_ADDRESS: '2' })
    try {
      const statuses: string[] = []
      for (let i = 0; i < 3; i++) {
        const body = JSON.stringify({ email: `short${i}@example.com`, password: 'wrong password' })
        const head = `POST /api/auth/login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}`
        statuses.push(await rawStatus(port, `${head}\r\nConnection: close\r\n\r\n${body}`))
      }
      expect(statuses).toEqual(['401', '401', '429'])
    } finally {
      proc.kill('SIGTERM')
      await proc.exited
    }
  }, 40_000)

  test('SIGTERM: stops accepting, finishes the request in flight, exits 0', async () => {
    const { proc, port } = await startServer()
    const base = `http://127.0.0.1:${port}`
    const token = await signAccessToken(TEST_SECRET, 'drain-user', 600)
    expect((await fetch(`${base}/health`)).status).toBe(200)

    // A create whose body is still arriving when the signal comes.
    let finishBody: () => void = () => {}
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"title": "in flight'))
        finishBody = () => {
          controller.enqueue(new TextEncoder().encode('"}'))
          controller.close()
        }
      },
    })
    const inFlight = fetch(`${base}/api/drain-user/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit)
    await Bun.sleep(200)
    proc.kill('SIGTERM')
    await Bun.sleep(200)
    finishBody()
    const res = await inFlight
    expect(res.status).toBe(201)
    expect((await json<{ title: string }>(res)).title).toBe('in flight')
    expect(await proc.exited).toBe(0)
    const refused = await fetch(`${base}/health`).then(
      () => 'answered',
      () => 'refused',
    )
    expect(refused).toBe('refused')
  }, 40_000)
})
