// A CPU profile of the server under one scenario's load: `bun bench/profile.ts [scenario] [seconds]`.
// Seeds a scratch PostgreSQL database (BENCH_DATABASE_URL's server) with one user's 20 tasks,
// starts `bun --cpu-prof-md src/main.ts` on it, drives the scenario with wrk (64 connections),
// stops the server and prints where its time went (the profile's top functions by self time).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { signAccessToken } from '../src/auth/sign-token'
import { startProcess } from './processes'
import { findWrk } from './wrk'

const [scenario = 'list', secondsArg = '8'] = Bun.argv.slice(2)
const adminUrl = Bun.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const SECRET = 'bench-secret-0123456789-0123456789-0123456789'
const USER = 'profile-user'
const wrk = findWrk()
if (!wrk) throw new Error('bench/profile.ts needs wrk')

const name = `todo_profile_${process.pid}`
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
await admin.unsafe(`create database ${name}`)
const url = new URL(adminUrl)
url.pathname = `/${name}`
const env = {
  DATABASE_URL: url.toString(),
  BETTER_AUTH_SECRET: SECRET,
  NODE_ENV: 'production',
  RATE_LIMIT_PER_MINUTE: '1000000',
}
const root = join(import.meta.dir, '..')
const profDir = mkdtempSync(join(tmpdir(), 'todo-profile-'))
try {
  Bun.spawnSync([process.execPath, join(root, 'src/main.ts'), 'migrate'], { env: { ...Bun.env, ...env } })
  const db = postgres(url.toString(), { max: 1, onnotice: () => {} })
  await db`insert into users (id) values (${USER})`
  await db`insert into tasks (user_id, title) select ${USER}, 'Task ' || n from generate_series(1, 20) n`
  await db.end()
  const token = await signAccessToken(SECRET, USER, 3600)
  const server = await startProcess(
    [process.execPath, '--cpu-prof-md', `--cpu-prof-dir=${profDir}`, join(root, 'src/main.ts')],
    env,
  )
  const path = scenario === 'get' ? `/api/${USER}/tasks/1` : `/api/${USER}/tasks?limit=20`
  const run = Bun.spawnSync([
    wrk,
    '-t1',
    '-c64',
    `-d${secondsArg}s`,
    '-H',
    `authorization: Bearer ${token}`,
    `${server.url}${path}`,
  ])
  console.log(
    run.stdout
      .toString()
      .split('\n')
      .filter((l) => /Requests\/sec|Latency/.test(l))
      .join('\n'),
  )
  await server.stop()
  const file = readdirSync(profDir).find((f) => f.endsWith('.md'))
  if (!file) throw new Error('no profile written')
  console.log(`profile: ${join(profDir, file)}`)
  console.log(readFileSync(join(profDir, file), 'utf8').split('\n').slice(0, 60).join('\n'))
} finally {
  await admin.unsafe(`drop database if exists ${name} with (force)`)
  await admin.end()
}
