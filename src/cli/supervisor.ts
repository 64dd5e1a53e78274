import type { Config } from '../config'
import { runMigrations } from '../db/migrate'
import { openDatabase } from '../db/open'
import type { Logger } from '../logger'

// A worker that dies within this long of starting failed at start-up (port taken, database
// refused...): restarting it at once would only spin.
const QUICK_EXIT_MS = 5000
const FIRST_RESTART_DELAY_MS = 1000
const MAX_RESTART_DELAY_MS = 30_000
// After this many quick exits in a row the supervisor gives up, so an orchestrator sees it fail.
const MAX_QUICK_EXITS = 5

/** How to start this same program again as a worker, from source or as a compiled binary. */
function workerCommand(): string[] {
  const compiled = Bun.main.startsWith('/$bunfs')
  return compiled ? [process.execPath, 'serve'] : [process.execPath, Bun.main, 'serve']
}

/**
 * Runs migrations once, then `workers` server processes sharing the port (SO_REUSEPORT).
 * SIGTERM/SIGINT are passed on; the supervisor exits once every worker has drained. A worker
 * that dies on its own is started again, with a growing delay when it dies right at start;
 * after MAX_QUICK_EXITS such deaths in a row the supervisor stops everything and exits 1.
 */
export async function supervise(config: Config, logger: Logger): Promise<never> {
  const database = await openDatabase(config, logger)
  try {
    await runMigrations(database, { logger, lockTimeoutSeconds: config.migrationLockTimeoutSeconds })
  } finally {
    await database.close()
  }

  let stopping = false
  const running = new Set<ReturnType<typeof Bun.spawn>>()
  const quickExits = new Map<number, number>()
  const stop = async (signal: NodeJS.Signals, failed = false) => {
    if (stopping) return
    stopping = true
    logger.info('stopping workers', { signal })
    for (const child of running) child.kill(signal)
    const codes = await Promise.all([...running].map((child) => child.exited))
    process.exit(!failed && codes.every((code) => code === 0) ? 0 : 1)
  }
  const start = (index: number) => {
    const startedAt = Date.now()
    const child = Bun.spawn(workerCommand(), {
      env: { ...Bun.env, TODO_API_WORKER: String(index), WORKERS: '1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    running.add(child)
    void child.exited.then((code) => {
      running.delete(child)
      if (stopping) return
      const quick = Date.now() - startedAt < QUICK_EXIT_MS
      const streak = quick ? (quickExits.get(index) ?? 0) + 1 : 0
      quickExits.set(index, streak)
      if (streak >= MAX_QUICK_EXITS) {
        logger.error('a worker keeps failing at start; giving up', { worker: index, code, attempts: streak })
        return void stop('SIGTERM', true)
      }
      const delay = Math.min(FIRST_RESTART_DELAY_MS * 2 ** Math.max(streak - 1, 0), MAX_RESTART_DELAY_MS)
      logger.error('worker exited; starting it again', { worker: index, pid: child.pid, code, delay_ms: delay })
      setTimeout(() => !stopping && start(index), delay)
    })
  }
  for (let i = 1; i <= config.workers; i++) start(i)
  logger.info('supervising', { workers: config.workers, pid: process.pid })

  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
  // Runs until a signal ends the process.
  return new Promise<never>(() => {})
}
