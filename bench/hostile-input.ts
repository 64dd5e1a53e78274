// What hostile request bodies cost a running server: CPU time and memory of the server
// process per request, and a victim's list latency while two connections send the attack.
//
//   bun bench/hostile-input.ts [--root <checkout>] [--production] [--seconds 10]
//
// Starts `bun <root>/src/main.ts` on a scratch database of BENCH_DATABASE_URL's server
// (default postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards. `--root` lets the
// same script measure an older checkout (its own node_modules installed).
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import postgres from 'postgres'
import { hostileBodies } from '../tests/support/hostile-bodies'

const args = Bun.argv.slice(2)
const option = (name: string) => {
  const i = args.indexOf(name)
  return i < 0 ? undefined : args[i + 1]
}
const root = resolve(option('--root') ?? join(import.meta.dir, '..'))
const production = args.includes('--production')
const seconds = Number(option('--seconds') ?? 10)
const serverUrl = Bun.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const SECRET = 'bench-secret-that-is-long-enough-0123456789'
const LIMIT = 65536

const name = `todo_hostile_${process.pid}`
const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
await admin.unsafe(`create database "${name}"`)
const url = new URL(serverUrl)
url.pathname = `/${name}`

const port = 21000 + Math.floor(Math.random() * 20000)
const server = Bun.spawn(['bun', join(root, 'src/main.ts')], {
  cwd: root,
  env: {
    PATH: Bun.env.PATH ?? '',
    HOME: Bun.env.HOME ?? '/tmp',
    PORT: String(port),
    DATABASE_URL: url.toString(),
    BETTER_AUTH_SECRET: SECRET,
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'error',
    // Well above the slowest request of the old code, so every answer is its own.
    REQUEST_TIMEOUT: '120',
    ...(production && { NODE_ENV: 'production' }),
  },
  stdout: 'ignore',
  stderr: 'ignore',
})
const base = `http://127.0.0.1:${port}`

const TICK_MS = 1000 / 100 // USER_HZ on Linux
function cpuMs(): number {
  const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}
/** Resident memory now (VmRSS), or its highest so far (VmHWM). */
function rssMiB(field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const line = readFileSync(`/proc/${server.pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`))
  return Math.round(Number(line?.[1]) / 1024)
}
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0

try {
  for (let i = 0; i < 300; i++) {
    if (
      (await fetch(`${base}/ready`).then(
        (r) => r.status,
        () => 0,
      )) === 200
    )
      break
    await Bun.sleep(100)
  }
  const { token, user } = (await (
    await fetch(`${base}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'victim@example.com', password: 'victim password', name: 'V' }),
    })
  ).json()) as { token: string; user: { id: string } }
  const auth = { authorization: `Bearer ${token}` }
  for (let i = 0; i < 20; i++)
    await fetch(`${base}/api/${user.id}/tasks`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title: `task ${i}`, tags: ['work'] }),
    })
  const list = () => fetch(`${base}/api/${user.id}/tasks?limit=20`, { headers: auth }).then((r) => r.arrayBuffer())
  for (let i = 0; i < 50; i++) await list()

  console.log(
    `server: ${root}, NODE_ENV=${production ? 'production' : '(unset)'}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  )
  console.log(`idle RSS ${rssMiB()} MiB`)
  const shapes = hostileBodies(LIMIT).filter((b) =>
    [
      'deep arrays',
      'deep objects',
      'wide array of tags',
      'many unknown keys',
      'long title of spaces between letters',
      'long email',
    ].includes(b.name),
  )
  const send = (path: string, body: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body })
  console.log('\n| body (64 KiB) | route | status | server CPU per request | wall | RSS after | peak RSS so far |')
  console.log('|---|---|---|---|---|---|---|')
  for (const { name: shape, body } of shapes) {
    const path = shape.includes('email')
      ? '/api/auth/register'
      : shape.includes('deep')
        ? '/api/auth/login'
        : `/api/${user.id}/tasks`
    // Repeated for a second or so: /proc counts CPU in 10 ms ticks.
    let tries = 0
    let status = 0
    const before = cpuMs()
    const started = performance.now()
    while (tries < 50 && (tries === 0 || performance.now() - started < 1500)) {
      const res = await send(path, body)
      await res.arrayBuffer()
      status = res.status
      tries++
    }
    const cpu = (cpuMs() - before) / tries
    const wall = (performance.now() - started) / tries
    console.log(
      `| ${shape} | POST ${path.replace(user.id, '{u}')} | ${status} | ${cpu.toFixed(1)} ms | ${wall.toFixed(1)} ms | ${rssMiB()} MiB | ${rssMiB('VmHWM')} MiB |`,
    )
  }

  async function victim(durationMs: number): Promise<number[]> {
    const times: number[] = []
    const end = performance.now() + durationMs
    while (performance.now() < end) {
      const t0 = performance.now()
      await list()
      times.push(performance.now() - t0)
    }
    return times.sort((a, b) => a - b)
  }
  const quiet = await victim(seconds * 1000)
  const attack = hostileBodies(LIMIT).find((b) => b.name === 'deep arrays')?.body ?? ''
  let stop = false
  let attacks = 0
  const attacker = async () => {
    while (!stop) {
      await (await send('/api/auth/login', attack)).arrayBuffer()
      attacks++
    }
  }
  const cpuBefore = cpuMs()
  const attackers = [attacker(), attacker()]
  const loaded = await victim(seconds * 1000)
  stop = true
  await Promise.all(attackers)
  console.log(
    `\nvictim GET /api/{u}/tasks?limit=20, ${seconds} s each:` +
      `\n  alone: ${quiet.length} requests, p50 ${percentile(quiet, 0.5).toFixed(1)} ms, p99 ${percentile(quiet, 0.99).toFixed(1)} ms` +
      `\n  with 2 connections sending 30,000-deep arrays to /api/auth/login: ${loaded.length} requests, p50 ${percentile(loaded, 0.5).toFixed(1)} ms, p99 ${percentile(loaded, 0.99).toFixed(1)} ms; ${attacks} attack requests answered; server CPU ${((cpuMs() - cpuBefore) / 1000).toFixed(1)} s; RSS after ${rssMiB()} MiB, peak ${rssMiB('VmHWM')} MiB`,
  )
} finally {
  server.kill('SIGKILL')
  await server.exited
  await admin.unsafe(`drop database if exists "${name}" with (force)`)
  await admin.end()
}
