import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signAccessToken } from '../../src/auth/sign-token'
import { DataDirInUseError, lockDataDir } from '../../src/db/data-dir-lock'
import { TEST_SECRET } from '../support/app'
import { type RunningServer, runToExit, startServer, TODO_API } from '../support/processes'

// The embedded database: these start real processes on one DATA_DIR, without DATABASE_URL,
// whichever backend the rest of the run uses.
const embeddedEnv = (dataDir: string) => ({ BETTER_AUTH_SECRET: TEST_SECRET, DATA_DIR: dataDir, PORT: '0' })
const freshDataDir = () => mkdtempSync(join(tmpdir(), 'todo-api-datadir-'))

async function createTasks(server: RunningServer, titles: string[]) {
  const token = await signAccessToken(TEST_SECRET, 'keeper', 600)
  const statuses = []
  for (const title of titles) {
    const res = await fetch(`http://127.0.0.1:${server.port}/api/keeper/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title }),
    })
    statuses.push(res.status)
  }
  return statuses
}

async function taskTitles(server: RunningServer): Promise<string[]> {
  const token = await signAccessToken(TEST_SECRET, 'keeper', 600)
  const res = await fetch(`http://127.0.0.1:${server.port}/api/keeper/tasks?limit=100`, {
    headers: { authorization: `Bearer ${token}` },
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { title: string }[]).map((t) => t.title).toSorted()
}

async function stop(server: RunningServer) {
  server.proc.kill('SIGTERM')
  return server.proc.exited
}

const titles = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix} ${i}`)

describe('one process per data directory', () => {
  test('a second process (serve or migrate) refuses in one line naming the folder and the holder; the first keeps its data', async () => {
    const dataDir = freshDataDir()
    const env = embeddedEnv(dataDir)
    const first = await startServer(env)
    try {
      expect(await createTasks(first, titles('before', 10))).toEqual(Array(10).fill(201))
      for (const command of [[], ['migrate']]) {
        const second = await runToExit([...TODO_API, ...command], env)
        expect(second.code, `"${command.join(' ')}" ended with`).toBe(1)
        const lines = `${second.stdout}${second.stderr}`.trim().split('\n')
        expect(lines).toHaveLength(1)
        const line = JSON.parse(lines[0] as string)
        expect(line.level).toBe('error')
        expect(line.msg).toContain(join(dataDir, 'pglite'))
        expect(line.msg).toContain(`process ${first.proc.pid}`)
      }
      expect(await createTasks(first, titles('after', 10))).toEqual(Array(10).fill(201))
    } finally {
      expect(await stop(first)).toBe(0)
    }
    const reopened = await startServer(env)
    try {
      expect(await taskTitles(reopened)).toEqual([...titles('after', 10), ...titles('before', 10)].toSorted())
    } finally {
      await stop(reopened)
    }
  }, 90_000)

  test('a holder killed with kill -9 does not block the next start, even when its pid now names a live process', async () => {
    const dataDir = freshDataDir()
    const env = embeddedEnv(dataDir)
    const first = await startServer(env)
    expect(await createTasks(first, ['acknowledged'])).toEqual([201])
    first.proc.kill('SIGKILL')
    await first.proc.exited
    // What a recycled pid looks like: the dead holder's pid file now names an unrelated, live
    // process.
    const bystander = Bun.spawn(['sleep', '60'])
    writeFileSync(join(dataDir, 'pglite.pid'), `${bystander.pid}\n`)
    try {
      const next = await startServer(env)
      try {
        expect(await taskTitles(next)).toEqual(['acknowledged'])
      } finally {
        expect(await stop(next)).toBe(0)
      }
    } finally {
      bystander.kill()
    }
  }, 90_000)

  test('three processes started at the same instant: exactly one gets the folder', async () => {
    const env = embeddedEnv(freshDataDir())
    const started = await Promise.allSettled([startServer(env), startServer(env), startServer(env)])
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
    try {
      expect(servers).toHaveLength(1)
      const refusals = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []))
      for (const refusal of refusals) expect(refusal).toContain(`in use by process ${servers[0]?.proc.pid}`)
    } finally {
      await Promise.all(servers.map(stop))
    }
  }, 90_000)

  test('within one process too, a folder opens once until it is released', () => {
    const dir = join(freshDataDir(), 'pglite')
    const lock = lockDataDir(dir)
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError)
    expect(() => lockDataDir(dir)).toThrow(`in use by process ${process.pid}`)
    lock.release()
    lockDataDir(dir).release()
  })
})
