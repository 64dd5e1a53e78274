// `bun bench/signup-flood.ts [--spread]`: how long a normal login takes while a crowd signs up.
// Starts `bun src/main.ts` (production argon2 cost) on a scratch PostgreSQL database, times
// sequential logins of one user alone, then again while 64 connections POST
// /api/auth/register for 12 seconds from another process. `--spread` gives every sign-up its
// own client address (TRUST_PROXY=true and a new X-Forwarded-For each), so per-address limits
// never bite and only the scheduling of password hashing is measured.
// Settings: FLOOD_CONNECTIONS, FLOOD_SECONDS, BENCH_DATABASE_URL.
import autocannon from 'autocannon'
import postgres from 'postgres'
import { startProcess } from './processes'

const PASSWORD = 'a perfectly fine password'
const SECRET = 'bench-secret-0123456789-0123456789-0123456789'

function floodRequest(spread: boolean) {
  let n = 0
  return (req: autocannon.Request) => {
    n++
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (spread) headers['x-forwarded-for'] = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
    const body = JSON.stringify({ email: `flood-${process.pid}-${n}@example.com`, password: PASSWORD, name: 'Flood' })
    return Object.assign(req, { method: 'POST', path: '/api/auth/register', headers, body })
  }
}

/** The flood itself, run as its own process so it does not share an event loop with the timer. */
async function flood(url: string, spread: boolean, connections: number, seconds: number) {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ setupRequest: floodRequest(spread) }],
  } as autocannon.Options)
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]),
  )
  console.log(JSON.stringify({ requests: result.requests.total, statuses, errors: result.errors + result.timeouts }))
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? Number.NaN

async function main() {
  const spread = process.argv.includes('--spread')
  const connections = Number(Bun.env.FLOOD_CONNECTIONS ?? 64)
  const seconds = Number(Bun.env.FLOOD_SECONDS ?? 12)
  const adminUrl = Bun.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `todo_flood_${process.pid}_${Date.now()}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const dbUrl = new URL(adminUrl)
  dbUrl.pathname = `/${name}`
  const server = await startProcess([process.execPath, `${import.meta.dir}/../src/main.ts`], {
    DATABASE_URL: dbUrl.toString(),
    BETTER_AUTH_SECRET: SECRET,
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    TRUST_PROXY: String(spread),
  })
  try {
    // The user's own address, apart from the flood's when addresses are spread.
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (spread) headers['x-forwarded-for'] = '198.51.100.1'
    const credentials = { email: 'user@example.com', password: PASSWORD }
    const registered = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...credentials, name: 'User' }),
    })
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}`)
    const timeLogin = async () => {
      const start = performance.now()
      const res = await fetch(`${server.url}/api/auth/login`, {
        method: 'POST',
        headers,
        body: JSON.stringify(credentials),
      })
      await res.arrayBuffer()
      return { ms: performance.now() - start, status: res.status }
    }
    const quiet: number[] = []
    for (let i = 0; i < 15; i++) quiet.push((await timeLogin()).ms)

    const generator = Bun.spawn(
      [process.execPath, import.meta.path, 'flood', server.url, String(spread), String(connections), String(seconds)],
      { stdout: 'pipe', stderr: 'inherit' },
    )
    const output = new Response(generator.stdout).text()
    await Bun.sleep(1000)
    const loaded: number[] = []
    const statuses: Record<number, number> = {}
    const end = Date.now() + (seconds - 1.5) * 1000
    while (Date.now() < end) {
      const { ms, status } = await timeLogin()
      loaded.push(ms)
      statuses[status] = (statuses[status] ?? 0) + 1
    }
    await generator.exited
    const floodResult = JSON.parse((await output).trim())
    const db = postgres(dbUrl.toString(), { max: 1, onnotice: () => {} })
    const [{ count }] = (await db`select count(*)::int as count from users`) as unknown as [{ count: number }]
    await db.end()
    const round = (x: number) => Math.round(x)
    console.log(
      JSON.stringify(
        {
          mode: spread ? 'spread addresses' : 'one address',
          quietLoginMs: { median: round(median(quiet)), n: quiet.length },
          loginDuringFloodMs: {
            median: round(median(loaded)),
            p90: round(quantile(loaded, 0.9)),
            max: round(Math.max(...loaded)),
            n: loaded.length,
            statuses,
          },
          flood: { connections, seconds, ...floodResult },
          accountsCreated: count - 1,
        },
        null,
        2,
      ),
    )
  } finally {
    await server.stop()
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.end()
  }
}

if (process.argv[2] === 'flood') {
  const [, , , url, spread, connections, seconds] = process.argv
  await flood(url as string, spread === 'true', Number(connections), Number(seconds))
} else await main()
