import type { Config } from '../config'
import type { Db } from '../db/client'
import type { Logger } from '../logger'
import { sweepExpiredKeys } from '../modules/idempotency/service'
import { createReminderScheduler } from '../modules/reminders/scheduler'
import { purgeTombstones } from '../modules/sync/service'
import { TRASH_PURGE_INTERVAL_MS, trashPurgeJob } from '../modules/trash/purge-job'
import { type StopJob, startPeriodic } from './periodic'

// Often enough that expired keys never pile up, rarely enough to cost nothing.
const IDEMPOTENCY_SWEEP_MS = 10 * 60 * 1000
// Tombstones live for months: an hourly purge keeps their table small.
const TOMBSTONE_PURGE_MS = 60 * 60 * 1000

/**
 * The background jobs of a serving process. Every instance runs them; each job's work is safe
 * with several instances at once. Answers one function that stops them all.
 */
export function startJobs(db: Db, config: Config, logger: Logger): StopJob {
  const stops = [
    startPeriodic(
      TOMBSTONE_PURGE_MS,
      () => purgeTombstones(db, new Date(Date.now() - config.tombstoneRetentionSeconds * 1000)),
      { name: 'tombstone-purge', logger },
    ),
    startPeriodic(IDEMPOTENCY_SWEEP_MS, () => sweepExpiredKeys(db, new Date()), {
      name: 'idempotency-key-sweep',
      logger,
    }),
    startPeriodic(TRASH_PURGE_INTERVAL_MS, trashPurgeJob(db, logger, config.trashRetentionSeconds), {
      name: 'trash-purge',
      logger,
    }),
  ]
  // Fires missed reminders at once, then due ones within about a second.
  const reminders = createReminderScheduler({ db, logger })
  reminders.start()
  stops.push(() => reminders.stop())
  logger.info('trash purge scheduled', {
    retention_seconds: config.trashRetentionSeconds,
    interval_seconds: TRASH_PURGE_INTERVAL_MS / 1000,
  })
  return async () => {
    await Promise.all(stops.map((stop) => stop()))
  }
}
