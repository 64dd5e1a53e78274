import type { Logger } from '../logger'

/** Stops a periodic job: no run starts afterwards; resolves once a run in progress has ended. */
export type StopJob = () => Promise<void>

export interface PeriodicOptions {
  /** Named in every log line of the job. */
  name: string
  logger: Logger
  /**
   * Each wait is `intervalMs` plus or minus this fraction of it (default 0.2), so instances
   * started together do not all run at the same moment.
   */
  jitter?: number
}

/**
 * Runs `run` every `intervalMs` (first after one interval) until stopped. A failed run is
 * logged and the next one comes on time: a database that is down for a while must not stop
 * the job for good. Runs never overlap, and the timer is unref'd: a job alone never keeps the
 * process alive. Work a job does must be safe with several instances running it at once.
 */
export function startPeriodic(intervalMs: number, run: () => Promise<unknown>, options: PeriodicOptions): StopJob {
  const { name, logger, jitter = 0.2 } = options
  let timer: Timer | undefined
  let running: Promise<void> | undefined
  let stopped = false
  const schedule = () => {
    if (stopped) return
    const wait = intervalMs * (1 + jitter * (2 * Math.random() - 1))
    timer = setTimeout(tick, Math.max(1, wait))
    timer.unref()
  }
  const tick = () => {
    running = run()
      .then(
        (result) => logger.debug('job ran', { job: name, result }),
        (err) => logger.error('job failed', { job: name, err }),
      )
      .finally(() => {
        running = undefined
        schedule()
      })
  }
  schedule()
  return async () => {
    stopped = true
    clearTimeout(timer)
    await running
  }
}
