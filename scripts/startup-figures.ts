// Start-up figures of the compiled binary: time from exec to the first 200 on /health, and
// resident memory once idle, on a fresh embedded database, a reopened one, and PostgreSQL.
//
//   bun scripts/startup-figures.ts dist/todo-api [postgres-server-url] [runs]
// With a server URL it creates a scratch database there, and drops it at the end.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import postgres from 'postgres'

const [binaryArg = 'dist/todo-api', serverUrl, runsArg = '3'] = Bun.argv.slice(2)
const binary = resolve(binaryArg)
const runs = Number(runsArg)

async function startOnce(env: Record<string, string>) {
  const port = 20000 + Math.floor(Math.random() * 20000)
  const started = performance.now()
  const proc = Bun.spawn([binary], {
    env: { PATH: Bun.env.PATH ?? '', PORT: String(port), BETTER_AUTH_SECRET: 's'.repeat(40), ...env },
    stdout: 'ignore',
    stderr: 'ignore',
  })
  let ms = Number.NaN
  for (let i = 0; i < 6000; i++) {
    if (
      (await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.status,
        () => 0,
      )) === 200
    ) {
      ms = performance.now() - started
      break
    }
    await Bun.sleep(5)
  }
  await Bun.sleep(2000)
  const status = await Bun.file(`/proc/${proc.pid}/status`).text()
  const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024
  proc.kill('SIGTERM')
  await proc.exited
  return { ms, rssMiB }
}

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)] as number
async function measure(label: string, envFor: () => Record<string, string>) {
  const results = []
  for (let i = 0; i < runs; i++) results.push(await startOnce(envFor()))
  console.log(
    `| ${label} | ${median(results.map((r) => r.ms)).toFixed(0)} ms | ${median(results.map((r) => r.rssMiB)).toFixed(0)} MiB |`,
  )
}

console.log(`binary: ${(Bun.file(binary).size / 1024 / 1024).toFixed(1)} MiB; median of ${runs} runs`)
console.log('| database | exec to first 200 on /health | idle RSS |\n|---|---|---|')
await measure('embedded, fresh DATA_DIR', () => ({ DATA_DIR: mkdtempSync(join(tmpdir(), 'todo-api-fig-')) }))
const reopened = mkdtempSync(join(tmpdir(), 'todo-api-fig-'))
await startOnce({ DATA_DIR: reopened })
await measure('embedded, reopened DATA_DIR', () => ({ DATA_DIR: reopened }))
if (serverUrl) {
  const name = `todo_figures_${process.pid}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  try {
    await measure('PostgreSQL (local, migrated)', () => ({ DATABASE_URL: url.toString() }))
  } finally {
    await admin.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.end()
  }
}
