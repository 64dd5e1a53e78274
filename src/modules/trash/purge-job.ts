import type { Db } from '../../db/client'
import type { Logger } from '../../logger'
import { purgeExpiredTrash } from './service'

export interface TrashPurgeJob {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>
}

/**
 * Runs `purgeExpiredTrash` now and every `intervalMs`, in every instance (they share the work:
 * see there). A run still going when the next is due is not doubled. A minimal scheduler, to be
 * folded into a shared periodic-job helper.
 */
export function startTrashPurge(
  db: Db,
  logger: Logger,
  {
    retentionSeconds,
    intervalMs = 60_000,
    now = () => new Date(),
  }: {
    retentionSeconds: number
    intervalMs?: number
    now?: () => Date
  },
): TrashPurgeJob {
  let running: Promise<void> | undefined
  const run = () => {
    running ??= purgeExpiredTrash(db, { now: now(), retentionSeconds })
      .then(
        (purged) => {
          if (purged.items > 0) logger.info('trash purged', { items: purged.items, tasks: purged.tasks })
        },
        (err) => logger.warn('trash purge failed; the next run tries again', { err }),
      )
      .finally(() => {
        running = undefined
      })
  }
  logger.info('trash purge scheduled', {
    retention_seconds: retentionSeconds,
    interval_seconds: Math.round(intervalMs / 1000),
  })
  const timer = setInterval(run, intervalMs)
  timer.unref()
  run()
  return {
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}
