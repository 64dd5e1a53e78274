import { readdirSync, readFileSync } from 'node:fs'
import type { Subprocess } from 'bun'
import { freePort } from '../tests/support/processes'

export interface Started {
  proc: Subprocess
  url: string
  stop(): Promise<void>
}

/** Starts a server process and waits until `probePath` answers 200 (or any answer for '/'). */
export async function startProcess(
  cmd: string[],
  env: Record<string, string>,
  probePath = '/health',
): Promise<Started> {
  const port = freePort()
  const proc = Bun.spawn(cmd, {
    env: { ...Bun.env, ...env, PORT: String(port) },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`${cmd.join(' ')} exited ${proc.exitCode}: ${await new Response(proc.stderr).text()}`)
    try {
      const res = await fetch(`${url}${probePath}`)
      if (probePath === '/' || res.ok) break
    } catch {}
    if (Date.now() > deadline) throw new Error(`${cmd.join(' ')} did not start`)
    await Bun.sleep(100)
  }
  return {
    proc,
    url,
    async stop() {
      proc.kill('SIGTERM')
      const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
      await proc.exited
      clearTimeout(killer)
    },
  }
}

/** Resident memory of a process and of its children (the workers of WORKERS=N), in MiB. */
export function residentMiB(pid: number): { rss: number; peak: number } {
  let rss = 0
  let peak = 0
  for (const p of [pid, ...childrenOf(pid)]) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8')
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
    } catch {}
  }
  return { rss: Math.round(rss), peak: Math.round(peak) }
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    )
  } catch {
    return []
  }
}
