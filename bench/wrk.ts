// wrk, a native load generator, driving the same scenarios as load.ts: each scenario's
// requests are made up front by the same functions, written as a pool of raw HTTP/1.1
// requests, and replayed round-robin by bench/wrk-pool.lua. A native generator takes far less
// CPU than autocannon from the cores it shares with the server, so it measures the server
// rather than itself.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Fixture, type LoadResult, type LoadSpec, type Request, scenarios } from './load'

const POOL_SIZE = 20_000

/** The path of wrk, installed from Debian's packages when missing and possible; else undefined. */
export function findWrk(): string | undefined {
  const found = Bun.which('wrk') ?? undefined
  if (found || Bun.env.BENCH_GENERATOR === 'autocannon') return found
  if (process.getuid?.() !== 0 || !Bun.which('apt-get')) return undefined
  const install = Bun.spawnSync(['apt-get', 'install', '-y', '-q', 'wrk'], {
    env: { ...Bun.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  if (install.exitCode !== 0) console.error(`[bench] could not install wrk: ${install.stderr.toString().trim()}`)
  return Bun.which('wrk') ?? undefined
}

function raw(host: string, r: Request): string {
  const headers = { host, ...r.headers, ...(r.body !== undefined && { 'content-length': String(r.body.length) }) }
  const text = `${r.method} ${r.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n${r.body ?? ''}`
  // Lua strings take JSON's escapes for ASCII; the benchmark sends nothing else.
  if (!/^[\x20-\x7e\r\n]*$/.test(text)) throw new Error(`not ASCII: ${r.path}`)
  return text
}

/** Writes the scenario's pool as a Lua file returning a table of raw requests. */
function writePool(spec: LoadSpec, fixture: Fixture, dir: string): string {
  const make = scenarios(fixture)[spec.scenario]
  if (!make) throw new Error(`unknown scenario ${spec.scenario}`)
  const host = new URL(spec.url).host
  // Each delete target exists once; any other scenario can repeat its requests.
  const size = spec.scenario === 'delete' ? Math.max(1, fixture.deleteTargets.length) : POOL_SIZE
  const pool = Array.from({ length: size }, () => JSON.stringify(raw(host, make())))
  const file = join(dir, `${spec.scenario}-pool.lua`)
  writeFileSync(file, `return {\n${pool.join(',\n')}\n}\n`)
  return file
}

async function wrk(bin: string, spec: LoadSpec, pool: string, seconds: number) {
  const proc = Bun.spawn(
    [
      bin,
      '-t1',
      `-c${spec.connections}`,
      `-d${Math.max(1, Math.round(seconds))}s`,
      '--timeout',
      '10s',
      '-s',
      join(import.meta.dir, 'wrk-pool.lua'),
      spec.url,
    ],
    { env: { ...Bun.env, WRK_POOL: pool }, stdout: 'pipe', stderr: 'inherit' },
  )
  const out = await new Response(proc.stdout).text()
  if ((await proc.exited) !== 0) throw new Error(`wrk failed for ${spec.scenario}: ${out}`)
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'))
  if (!line) throw new Error(`no result from wrk for ${spec.scenario}: ${out}`)
  const cpu = proc.resourceUsage()?.cpuTime
  return {
    result: JSON.parse(line) as { requests: number; seconds: number; p50: number; p99: number; errors: number },
    cpuSeconds: cpu ? Number(cpu.user + cpu.system) / 1e6 : Number.NaN,
  }
}

/** One scenario under wrk: a warm-up, then the measured run. */
export async function runWrk(bin: string, spec: LoadSpec, workDir: string): Promise<LoadResult> {
  const fixture = (await Bun.file(spec.fixture).json()) as Fixture
  const pool = writePool(spec, fixture, workDir)
  if (spec.warmupSeconds > 0 && spec.scenario !== 'delete') await wrk(bin, spec, pool, spec.warmupSeconds)
  const { result, cpuSeconds } = await wrk(bin, spec, pool, spec.durationSeconds)
  return {
    scenario: spec.scenario,
    rps: Math.round(result.requests / result.seconds),
    p50: Math.round(result.p50 * 100) / 100,
    p99: Math.round(result.p99 * 100) / 100,
    errors: result.errors,
    requests: result.requests,
    generatorCpu: Math.round((cpuSeconds / result.seconds) * 100) / 100,
  }
}
