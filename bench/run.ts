// `bun run bench`: seeds a fresh Postgres database, starts the server (the compiled binary
// when dist/todo-api exists) and two baselines as separate processes, drives each scenario
// from another process, and writes bench/results/latest.{json,md}. `--quick` is CI's smoke:
// a small seed and one-second runs, results in a temporary folder, no targets.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { signAccessToken } from '../src/auth/sign-token'
import { startPgBouncer } from '../tests/support/pgbouncer'
import { embeddedStart } from './embedded-start'
import { eventFigures } from './events'
import type { Fixture, LoadResult, LoadSpec } from './load'
import { POOLER_SCENARIOS, poolerReport, poolerSetups } from './pooler'
import { residentMiB, type Started, startProcess } from './processes'
import { type Outcome, report } from './report'
import { BIG_USER, PASSWORD, type SeedPlan, seed, userEmail, userId, WORDS } from './seed'
import { createLoop, feedFigures } from './sync'
import { findWrk, runWrk } from './wrk'

const quick = process.argv.includes('--quick')
const poolerRun = Bun.env.BENCH_POOLER === 'pgbouncer'
// Ends the pooler run early, past the other scenarios, through the database's clean-up.
const POOLER_DONE = Symbol('pooler run done')
const env = (name: string, fallback: number) => Number(Bun.env[name] ?? fallback)
const settings = {
  adminUrl: Bun.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  connections: env('BENCH_CONNECTIONS', quick ? 8 : 64),
  durationSeconds: env('BENCH_DURATION', quick ? 1 : 6),
  warmupSeconds: env('BENCH_WARMUP', quick ? 0 : 2),
  soakSeconds: env('BENCH_SOAK', quick ? 2 : 300),
  plan: (quick
    ? { users: 20, tasksPerUser: 100, bigUserTasks: 2_000 }
    : { users: 1_000, tasksPerUser: 100, bigUserTasks: 100_000 }) satisfies SeedPlan,
}
const SECRET = 'bench-secret-0123456789-0123456789-0123456789'
const root = join(import.meta.dir, '..')
const binary = join(root, 'dist', 'todo-api')
const serverCmd = existsSync(binary) ? [binary] : [process.execPath, join(root, 'src', 'main.ts')]
const work = mkdtempSync(join(tmpdir(), 'todo-bench-'))
// wrk where it is (or can be) installed; autocannon otherwise, or with BENCH_GENERATOR=autocannon.
const wrkBin = Bun.env.BENCH_GENERATOR === 'autocannon' ? undefined : findWrk()
const began = performance.now()
const log = (msg: string) => console.error(`[bench] ${Math.round((performance.now() - began) / 1000)} s: ${msg}`)

function databaseUrl(name: string) {
  const url = new URL(settings.adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

// The process whose memory is sampled while a scenario runs, and the largest value seen.
let watched: number | undefined
let rssPeak = 0
setInterval(() => {
  if (watched) rssPeak = Math.max(rssPeak, residentMiB(watched).rss)
}, 200).unref()

async function load(
  url: string,
  scenario: string,
  connections = settings.connections,
  seconds = settings.durationSeconds,
) {
  const spec: LoadSpec = {
    url,
    scenario,
    connections,
    durationSeconds: seconds,
    warmupSeconds: settings.warmupSeconds,
    fixture: join(work, 'fixture.json'),
  }
  rssPeak = 0
  const file = join(work, `${scenario}-${Date.now()}.json`)
  writeFileSync(file, JSON.stringify(spec))
  const result = wrkBin ? await runWrk(wrkBin, spec, work) : await autocannonProcess(file, spec)
  if (watched) result.rssMiB = Math.max(rssPeak, residentMiB(watched).rss)
  log(
    `${scenario}: ${result.rps} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, errors ${result.errors}, RSS ${result.rssMiB ?? '-'} MiB`,
  )
  return result
}

/** autocannon in a process of its own; its CPU over the whole run, warm-up included. */
async function autocannonProcess(file: string, spec: LoadSpec): Promise<LoadResult> {
  const began = performance.now()
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, 'load.ts'), file], {
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const out = await new Response(proc.stdout).text()
  if ((await proc.exited) !== 0) throw new Error(`load generator failed for ${spec.scenario}`)
  const result = JSON.parse(out.trim().split('\n').at(-1) as string) as LoadResult
  const cpu = proc.resourceUsage()?.cpuTime
  const seconds = (performance.now() - began) / 1000
  if (cpu) result.generatorCpu = Math.round((Number(cpu.user + cpu.system) / 1e6 / seconds) * 100) / 100
  return result
}

/** Runs `work` while the server's memory is sampled; answers its peak (VmHWM) too. */
async function watchingMemory<T>(server: Started, run: () => Promise<T>) {
  watched = server.proc.pid
  try {
    const value = await run()
    return { value, peak: residentMiB(server.proc.pid).peak }
  } finally {
    watched = undefined
  }
}

const name = `todo_bench_${process.pid}_${Date.now()}`
const admin = postgres(settings.adminUrl, { max: 1, onnotice: () => {} })
await admin.unsafe(`create database ${name}`)
const url = databaseUrl(name)
const serverEnv = {
  DATABASE_URL: url,
  BETTER_AUTH_SECRET: SECRET,
  NODE_ENV: 'production',
  // Both limits stay on, so their cost is measured, but far above what the benchmark sends:
  // its users all come from one address, and the big user alone sends thousands a second.
  RATE_LIMIT_PER_MINUTE: '1000000',
  LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000',
}
const outcome: Outcome = {
  settings: { ...settings, server: serverCmd.join(' '), generator: wrkBin ? 'wrk' : 'autocannon' },
  results: [],
  memory: {},
}
try {
  log(`database ${name}; server: ${serverCmd.join(' ')}`)
  const migrate = Bun.spawnSync([...serverCmd, 'migrate'], { env: { ...Bun.env, ...serverEnv } })
  if (migrate.exitCode !== 0) throw new Error(`migrate failed: ${migrate.stderr.toString()}`)
  const seeder = postgres(url, { max: 1, onnotice: () => {} })
  const started = performance.now()
  const passwordHash = await Bun.password.hash(PASSWORD, { algorithm: 'argon2id', memoryCost: 19456, timeCost: 2 })
  await seed(seeder, settings.plan, passwordHash)
  log(`seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`)

  const lists = await seeder<{ user_id: string; id: number; is_default: boolean }[]>`
    select user_id, id, is_default from lists order by position, id`
  const inboxOf = new Map(lists.filter((l) => l.is_default).map((l) => [l.user_id, l.id]))
  const users = await Promise.all(
    Array.from({ length: settings.plan.users }, async (_, i) => ({
      id: userId(i),
      email: userEmail(i),
      token: await signAccessToken(SECRET, userId(i), 3600),
      inbox: inboxOf.get(userId(i)) as number,
    })),
  )
  const fixture: Fixture = {
    users,
    tasksPerUser: settings.plan.tasksPerUser,
    big: {
      id: BIG_USER,
      token: await signAccessToken(SECRET, BIG_USER, 3600),
      lists: lists.filter((l) => l.user_id === BIG_USER).map((l) => l.id),
      firstTask: settings.plan.users * settings.plan.tasksPerUser + 1,
      tasks: settings.plan.bigUserTasks,
    },
    deleteTargets: [],
    password: PASSWORD,
    words: WORDS,
  }
  const writeFixture = () => writeFileSync(join(work, 'fixture.json'), JSON.stringify(fixture))
  writeFixture()

  if (poolerRun) {
    // BENCH_POOLER=pgbouncer: only the read scenarios whose plans matter, on the server as it
    // runs directly and through a transaction-mode PgBouncer, in one run on one machine.
    const bouncer = await startPgBouncer(settings.adminUrl, { poolSize: 10 })
    try {
      for (const [setup, env] of poolerSetups(serverEnv, bouncer.url(url))) {
        const server = await startProcess(serverCmd, env)
        for (const scenario of POOLER_SCENARIOS)
          outcome.results.push({ ...(await load(server.url, scenario)), scenario: `${scenario} (${setup})` })
        await server.stop()
      }
    } finally {
      await bouncer.stop()
    }
    await seeder.end()
    throw POOLER_DONE
  }

  // The baselines: each runs the app scenario's requests (list, get, create, toggle).
  for (const [script, floors] of [
    [
      'floor-db.ts',
      [
        ['floor-db', 'list'],
        ['floor-get', 'get'],
        ['floor-insert', 'create'],
        ['floor-update', 'toggle'],
      ],
    ],
    ['floor-http.ts', [['floor-http', 'list']]],
  ] as const) {
    const probe = `/api/${userId(0)}/tasks`
    const server = await startProcess([process.execPath, join(import.meta.dir, script)], { DATABASE_URL: url }, probe)
    for (const [floor, scenario] of floors)
      outcome.results.push({ ...(await load(server.url, scenario)), scenario: floor })
    await server.stop()
  }

  const server = await startProcess(serverCmd, serverEnv)
  const { peak } = await watchingMemory(server, async () => {
    for (const scenario of [
      'list',
      'get',
      'search',
      'filtered',
      'list-small',
      'list-big',
      'search-small',
      'search-big',
      'outline-small',
      'outline-big',
      'move-small',
      'move-big',
    ])
      outcome.results.push(await load(server.url, scenario))
    for (const scenario of ['update', 'toggle', 'create']) outcome.results.push(await load(server.url, scenario))
    // What the create scenario made, topped up so that the delete scenario never runs dry.
    const seeded = settings.plan.users * settings.plan.tasksPerUser + settings.plan.bigUserTasks
    await seeder`
      insert into tasks (user_id, title)
      select 'bench-user-' || lpad((n % ${settings.plan.users})::text, 4, '0'), 'Disposable ' || n
      from generate_series(1, ${5_000 * (settings.durationSeconds + settings.warmupSeconds)}) n`
    const created = await seeder<{ id: number; user_id: string }[]>`
      select id, user_id from tasks where id > ${seeded} and user_id like 'bench-user-%' order by random()`
    fixture.deleteTargets = created.map((t) => ({ id: t.id, user: Number(t.user_id.slice('bench-user-'.length)) }))
    writeFixture()
    outcome.results.push(await load(server.url, 'delete'))
    outcome.results.push(await load(server.url, 'mixed'))
    outcome.results.push(await load(server.url, 'login'))
    // A login storm (16 connections) while the other routes take the usual load.
    const [storm, during] = await Promise.all([
      load(server.url, 'login', 16),
      Bun.sleep(500).then(() => load(server.url, 'mixed', settings.connections, settings.durationSeconds - 1)),
    ])
    outcome.results.push({ ...storm, scenario: 'login-storm' }, { ...during, scenario: 'mixed-during-login-storm' })
    if (settings.soakSeconds > 0) {
      const start = residentMiB(server.proc.pid).rss
      outcome.results.push({
        ...(await load(server.url, 'mixed', settings.connections, settings.soakSeconds)),
        scenario: 'soak',
      })
      outcome.memory.soak = { startMiB: start, endMiB: residentMiB(server.proc.pid).rss, seconds: settings.soakSeconds }
    }
  })
  outcome.memory.peakMiB = peak
  log('sync: change feed and Idempotency-Key')
  const loopUsers = users.slice(0, 200)
  const loop = { connections: 32, seconds: quick ? 1 : 5 }
  outcome.sync = {
    feed: await feedFigures(server.url, BIG_USER, fixture.big.token),
    create: await createLoop(server.url, loopUsers, { ...loop, keyed: false }),
    createWithKey: await createLoop(server.url, loopUsers, { ...loop, keyed: true }),
  }
  await server.stop()
  log('sync: live events across two instances')
  outcome.sync.events = await eventFigures(settings.adminUrl, serverCmd, quick ? 50 : 1000, quick ? 20 : 300)

  const workers = await startProcess(serverCmd, { ...serverEnv, WORKERS: '2' })
  await watchingMemory(workers, async () => {
    for (const scenario of ['list', 'get'])
      outcome.results.push({ ...(await load(workers.url, scenario)), scenario: `${scenario}-workers-2` })
  })
  await workers.stop()
  await seeder.end()
} catch (error) {
  if (error !== POOLER_DONE) throw error
} finally {
  await admin.unsafe(`drop database if exists ${name} with (force)`)
  await admin.end()
}

if (poolerRun) {
  const markdown = poolerReport(
    outcome.results,
    poolerSetups({}, '').map(([setup]) => setup),
  )
  const out = quick ? work : join(import.meta.dir, 'results')
  writeFileSync(join(out, 'pooler.md'), markdown)
  console.log(markdown)
  log(`results in ${join(out, 'pooler.md')}`)
  process.exit(0)
}

// The embedded default as a newcomer meets it: `bun run start` on a fresh folder, then again.
log('embedded start')
outcome.embedded = await embeddedStart([process.execPath, join(root, 'src', 'main.ts')], quick ? 1 : 3)

const { json, markdown } = report(outcome, quick)
const out = quick ? work : join(import.meta.dir, 'results')
mkdirSync(out, { recursive: true })
writeFileSync(join(out, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`)
writeFileSync(join(out, 'latest.md'), markdown)
console.log(markdown)
log(`results in ${out}`)
process.exit(0)
