import type { Db } from '../../db/client'
import type { Logger } from '../../logger'
import { purgeExpiredTrash } from './service'

/** How often each instance purges expired trash: an item outlives TRASH_RETENTION by about this. */
export const TRASH_PURGE_INTERVAL_MS = 60 * 1000

/**
 * One run of the trash purge, for `startPeriodic`: every item trashed more than
 * `retentionSeconds` before the clock's time. Safe with every instance running it (see
 * `purgeExpiredTrash`).
 */
export function trashPurgeJob(db: Db, logger: Logger, retentionSeconds: number, now: () => Date = () => new Date()) {
  return async () => {
    const purged = await purgeExpiredTrash(db, { now: now(), retentionSeconds })
    if (purged.items > 0) logger.info('trash purged', { items: purged.items, tasks: purged.tasks })
    return purged
  }
}
