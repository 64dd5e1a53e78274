// The embedded database as a newcomer meets it: time from exec to the first 200 on /health,
// the process's peak memory (VmHWM) meanwhile, and its memory once idle, on a fresh DATA_DIR
// and on a reopened one.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../tests/support/processes'

export interface StartFigures {
  ms: number
  peakMiB: number
  idleMiB: number
}

const kib = (status: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / 1024

/** One start of `cmd` with `env`: measured, then stopped. */
export async function startOnce(cmd: string[], env: Record<string, string>, idleAfterMs = 2000): Promise<StartFigures> {
  const port = freePort()
  const started = performance.now()
  const proc = Bun.spawn(cmd, {
    env: { PATH: Bun.env.PATH ?? '', PORT: String(port), BETTER_AUTH_SECRET: 's'.repeat(40), ...env },
    stdout: 'ignore',
    stderr: 'ignore',
  })
  try {
    let ms = Number.NaN
    while (proc.exitCode === null && performance.now() - started < 60_000) {
      const status = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.status,
        () => 0,
      )
      if (status === 200) {
        ms = performance.now() - started
        break
      }
      await Bun.sleep(5)
    }
    if (Number.isNaN(ms)) throw new Error(`${cmd.join(' ')} did not answer /health (exit ${proc.exitCode})`)
    await Bun.sleep(idleAfterMs)
    const status = await Bun.file(`/proc/${proc.pid}/status`).text()
    return { ms, peakMiB: kib(status, 'VmHWM'), idleMiB: kib(status, 'VmRSS') }
  } finally {
    proc.kill('SIGTERM')
    await proc.exited
  }
}

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const medianOf = (runs: StartFigures[]): StartFigures => ({
  ms: Math.round(median(runs.map((r) => r.ms))),
  peakMiB: Math.round(median(runs.map((r) => r.peakMiB))),
  idleMiB: Math.round(median(runs.map((r) => r.idleMiB))),
})

/** Medians of `runs` first starts (each on a new DATA_DIR) and of `runs` restarts of one. */
export async function embeddedStart(cmd: string[], runs: number) {
  const dirs: string[] = []
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'todo-api-start-'))
    dirs.push(dir)
    return dir
  }
  try {
    const first: StartFigures[] = []
    for (let i = 0; i < runs; i++) first.push(await startOnce(cmd, { DATA_DIR: fresh() }))
    const reopened = fresh()
    await startOnce(cmd, { DATA_DIR: reopened }, 0)
    const restart: StartFigures[] = []
    for (let i = 0; i < runs; i++) restart.push(await startOnce(cmd, { DATA_DIR: reopened }))
    return { first: medianOf(first), restart: medianOf(restart) }
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}
