import { sql } from 'drizzle-orm'
import { REMINDER_CHANNEL } from '../../db/change-listener'
import { type Db, queryRows } from '../../db/client'
import type { Logger } from '../../logger'

/** How often each instance looks for reminders that came due: they fire within about this. */
export const REMINDER_POLL_MS = 1000
/** A reminder fired more than this after its time is `late` (it was missed: everything was down). */
export const LATE_AFTER_SECONDS = 30
const BATCH = 100

export interface FiredReminder {
  id: number
  user_id: string
  task_id: number
  late: boolean
}

/**
 * Fires up to `batch` reminders whose time has come, in one statement: claims them (`skip
 * locked`: a reminder another instance is firing is left to it, so each fires once), marks them
 * fired, and notifies each of their users on REMINDER_CHANNEL at commit, where every instance's
 * event streams pick them up. One statement, not a transaction the client steers: an instance
 * that freezes (a paused VM) after sending it holds no claimed reminder locked meanwhile. A
 * reminder of a task in the trash never fires. `now` replaces the database's clock (tests).
 */
export function fireDueReminders(db: Db, { now, batch = BATCH }: { now?: Date; batch?: number } = {}) {
  const at = now ? sql`${now.toISOString()}::timestamptz` : sql`now()`
  return queryRows<FiredReminder>(
    db,
    sql`with due as (
          select r.id from reminders r
          where r.fired_at is null and r.fire_at is not null and r.fire_at <= ${at}
            and exists (select 1 from tasks t where t.id = r.task_id and t.user_id = r.user_id)
          order by r.fire_at, r.id
          limit ${batch}
          for update of r skip locked
        ),
        fired as (
          update reminders r
          set fired_at = ${at}, late = r.fire_at < ${at} - make_interval(secs => ${LATE_AFTER_SECONDS})
          from due where r.id = due.id
          returning r.id, r.user_id, r.task_id, r.late
        ),
        -- Run once for the statement (it is read below), one notification per user.
        notified as (
          select count(pg_notify(${REMINDER_CHANNEL}, users.user_id)) as n
          from (select distinct user_id from fired) users
        )
        select fired.id, fired.user_id, fired.task_id, fired.late from fired, notified`,
  )
}

export interface ReminderSchedulerOptions {
  db: Db
  logger: Logger
  /** Replaces the database's clock (tests). */
  clock?: () => Date
  pollMs?: number
  /** Reminders claimed per transaction. */
  batch?: number
  /** Told of every reminder this instance fired. */
  onFired?: (fired: FiredReminder[]) => void
}

export interface ReminderScheduler {
  /** Fires what is due at once (reminders missed while it was stopped), then every `pollMs`. */
  start(): void
  /** No run starts afterwards; resolves when the run in progress has ended. */
  stop(): Promise<void>
  /** One run: fires everything due now; answers what this instance fired. */
  tick(): Promise<FiredReminder[]>
}

/**
 * The reminder scheduler of one instance. Every instance runs one against the shared
 * database; `fireDueReminders` makes each reminder fire on exactly one of them, once, and
 * whatever came due while all of them were down fires when the first starts again (`late`).
 */
export function createReminderScheduler(options: ReminderSchedulerOptions): ReminderScheduler {
  const { db, logger, clock, pollMs = REMINDER_POLL_MS, batch = BATCH, onFired } = options
  let timer: Timer | undefined
  let running: Promise<void> | undefined
  let stopped = true

  async function tick(): Promise<FiredReminder[]> {
    const all: FiredReminder[] = []
    for (;;) {
      const fired = await fireDueReminders(db, { now: clock?.(), batch })
      all.push(...fired)
      if (fired.length > 0) onFired?.(fired)
      if (fired.length < batch) return all
    }
  }

  function run() {
    running = tick()
      .then(
        (fired) => {
          if (fired.length > 0)
            logger.info('reminders fired', { count: fired.length, late: fired.filter((r) => r.late).length })
        },
        (err) => logger.error('reminder scheduler run failed; trying again', { err }),
      )
      .finally(() => {
        running = undefined
        if (stopped) return
        timer = setTimeout(run, pollMs)
        timer.unref()
      })
  }

  return {
    start() {
      if (!stopped) return
      stopped = false
      run()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
    tick,
  }
}
