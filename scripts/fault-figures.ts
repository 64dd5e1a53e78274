// Time limits under database faults, measured on real processes with a TCP proxy in front of
// PostgreSQL:
//   1. the database stops answering (stall): how many stalled requests get an HTTP answer at
//      all, with REQUEST_TIMEOUT=20s (one run) and at the default (four runs);
//   2. the database refuses connections (cut): the latency of each request, and after the
//      database is back, how long until a request succeeds again.
//
//   bun scripts/fault-figures.ts postgres://postgres@127.0.0.1:5432/postgres [repo-dir]
// It creates a scratch database on that server and drops it at the end. `repo-dir` (default:
// this checkout) is the code that is started, so an older commit can be measured the same way.
import { resolve } from 'node:path'
import postgres from 'postgres'

const [serverUrl, repoArg = resolve(import.meta.dir, '..')] = Bun.argv.slice(2)
if (!serverUrl) throw new Error('usage: bun scripts/fault-figures.ts <postgres-server-url> [repo-dir]')
const repo = resolve(repoArg)
const { startServer, TcpProxy } = await import(`${repo}/tests/support/processes.ts`)
const main = `${repo}/src/main.ts`

const name = `todo_faults_${process.pid}`
const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
await admin.unsafe(`create database "${name}"`)
const target = new URL(serverUrl)
target.pathname = `/${name}`

async function withServer<T>(
  env: Record<string, string>,
  fn: (base: string, proxy: InstanceType<typeof TcpProxy>) => Promise<T>,
) {
  const proxy = new TcpProxy({ hostname: target.hostname, port: Number(target.port || 5432) })
  proxy.start()
  const viaProxy = new URL(target)
  viaProxy.port = String(proxy.port)
  const server = await startServer(
    { BETTER_AUTH_SECRET: 's'.repeat(40), DATA_DIR: '/tmp', DATABASE_URL: viaProxy.toString(), PORT: '0', ...env },
    { command: ['bun', main] },
  )
  try {
    return await fn(`http://127.0.0.1:${server.port}`, proxy)
  } finally {
    server.proc.kill('SIGKILL')
    await server.proc.exited
    proxy.stop()
  }
}

async function signUp(base: string) {
  const res = await fetch(`${base}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `f${crypto.randomUUID()}@example.com`, password: 'long enough pw', name: 'F' }),
  })
  const body = (await res.json()) as { token: string; user: { id: string } }
  return { url: `${base}/api/${body.user.id}/tasks`, token: body.token }
}

// curl, one connection per request: Bun's fetch quietly sends a request again when the server
// closes a kept-alive connection without answering, which would hide exactly what is measured.
async function timed({ url, token }: { url: string; token: string }) {
  const curl = Bun.spawn(
    ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code} %{time_total}', '-H', `authorization: Bearer ${token}`, url],
    { stdout: 'pipe' },
  )
  const [code, seconds] = (await new Response(curl.stdout).text()).split(' ')
  return { status: Number(code), ms: Number(seconds) * 1000 }
}

const tally = (statuses: number[]) =>
  Object.entries(Object.groupBy(statuses, (s) => (s === 0 ? 'no answer' : String(s))))
    .map(([k, v]) => `${k}: ${v?.length}`)
    .join(', ')

async function stalled(requestTimeout: string | undefined, count: number) {
  const env: Record<string, string> = requestTimeout ? { REQUEST_TIMEOUT: requestTimeout } : {}
  return withServer(env, async (base, proxy) => {
    const list = await signUp(base)
    // Every pooled connection open, so the stalled requests wait on connections that exist
    // (a new connection would fail on its own connect timeout instead).
    await Promise.all(Array.from({ length: 20 }, () => timed(list)))
    proxy.stall()
    const results = await Promise.all(Array.from({ length: count }, () => timed(list)))
    proxy.restore()
    const slowest = Math.max(...results.map((r) => r.ms))
    console.log(
      `stall, REQUEST_TIMEOUT=${requestTimeout ?? 'default'}: ${count} concurrent requests -> ${tally(results.map((r) => r.status))}; slowest ${(slowest / 1000).toFixed(1)} s`,
    )
  })
}

async function refused(count: number) {
  return withServer({}, async (base, proxy) => {
    const list = await signUp(base)
    await timed(list)
    proxy.cut()
    const results = []
    for (let i = 0; i < count; i++) results.push(await timed(list))
    const ms = results.map((r) => r.ms).toSorted((a, b) => a - b)
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]?.toFixed(0)
    console.log(
      `refused: ${count} requests one after another -> ${tally(results.map((r) => r.status))}; ` +
        `latency min ${at(0)} ms, median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms; ` +
        `over 200 ms: ${ms.filter((x) => x > 200).length}`,
    )
    proxy.restore()
    const restored = performance.now()
    let first = Number.NaN
    for (let i = 0; i < 600; i++) {
      if ((await timed(list)).status === 200) {
        first = performance.now() - restored
        break
      }
      await Bun.sleep(50)
    }
    console.log(`refused, then restored: first 200 after ${(first / 1000).toFixed(2)} s`)
  })
}

try {
  await stalled('20s', 13)
  // Whether Bun's idle timeout or the deadline comes first at the default varies from run to run.
  for (let run = 0; run < 4; run++) await stalled(undefined, 30)
  await refused(40)
} finally {
  await admin.unsafe(`drop database if exists "${name}" with (force)`)
  await admin.end()
}
