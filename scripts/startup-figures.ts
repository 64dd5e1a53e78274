// Start-up figures: time from exec to the first 200 on /health, peak and idle memory, on a
// fresh embedded database, a reopened one, and PostgreSQL.
//
//   bun scripts/startup-figures.ts [dist/todo-api | src/main.ts] [postgres-server-url] [runs]
// A `.ts` entry point runs under this Bun, as `bun run start` does. With a server URL it
// creates a scratch database there, and drops it at the end.
import { resolve } from 'node:path'
import postgres from 'postgres'
import { embeddedStart, type StartFigures, startOnce } from '../bench/embedded-start'

const [entryArg = 'dist/todo-api', serverUrl, runsArg = '3'] = Bun.argv.slice(2)
const entry = resolve(entryArg)
const cmd = entry.endsWith('.ts') ? [process.execPath, entry] : [entry]
const runs = Number(runsArg)

const row = (label: string, f: StartFigures) =>
  console.log(`| ${label} | ${Math.round(f.ms)} ms | ${Math.round(f.peakMiB)} MiB | ${Math.round(f.idleMiB)} MiB |`)

console.log(`${cmd.join(' ')}; median of ${runs} runs`)
console.log('| database | exec to first 200 on /health | peak RSS | idle RSS |\n|---|---|---|---|')
const embedded = await embeddedStart(cmd, runs)
row('embedded, fresh `DATA_DIR`', embedded.first)
row('embedded, reopened `DATA_DIR`', embedded.restart)
if (serverUrl) {
  const name = `todo_figures_${process.pid}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  try {
    await startOnce(cmd, { DATABASE_URL: url.toString() }, 0)
    const figures: StartFigures[] = []
    for (let i = 0; i < runs; i++) figures.push(await startOnce(cmd, { DATABASE_URL: url.toString() }))
    figures.sort((a, b) => a.ms - b.ms)
    row('PostgreSQL (local, migrated)', figures[Math.floor(runs / 2)] as StartFigures)
  } finally {
    await admin.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.end()
  }
}
