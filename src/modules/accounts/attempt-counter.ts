import { inArray, sql } from 'drizzle-orm'
import { type Db, queryRows } from '../../db/client'
import { loginFailures as attempts } from '../../db/schema'

export interface CountingWindow {
  /** Attempts allowed per window; the next one is refused. */
  limit: number
  seconds: number
}

/** A key's count in its current window, and the seconds until that window ends. */
export interface Usage {
  count: number
  secondsLeft: number
}

/** Seconds to wait when `usage` is over `limit`, else 0. */
export const waitFor = (usage: Usage, limit: number) => (usage.count > limit ? usage.secondsLeft : 0)

/**
 * Attempts per key (`email:…`, `address:…`, `signup:…`, `refresh:…`) in fixed windows, in
 * Postgres so that every instance sees the same counts. The table is the one that held failed
 * logins alone before; its name stayed.
 *
 * An attempt is counted *before* the work it guards, in one atomic upsert, so a burst of
 * parallel attempts cannot all read "none yet": the attempt past the limit is refused.
 *
 * `keepSeconds` must cover the longest window in use: rows older than that are swept away.
 */
export function createAttemptCounter(db: Db, keepSeconds: number) {
  return {
    /** Counts one attempt; answers the key's count and the seconds left in its window. */
    async take(key: string, { seconds }: CountingWindow): Promise<Usage> {
      const window = sql`${seconds} * interval '1 second'`
      const expired = sql`${attempts.windowStart} <= now() - ${window}`
      const [row] = await db
        .insert(attempts)
        .values({ key, failures: 1, windowStart: sql`now()` })
        .onConflictDoUpdate({
          target: attempts.key,
          set: {
            failures: sql`case when ${expired} then 1 else ${attempts.failures} + 1 end`,
            windowStart: sql`case when ${expired} then now() else ${attempts.windowStart} end`,
          },
        })
        .returning({
          count: attempts.failures,
          remaining: sql<number>`extract(epoch from ${attempts.windowStart} + ${window} - now())::float8`,
        })
      return row ? { count: row.count, secondsLeft: row.remaining } : { count: 0, secondsLeft: seconds }
    },

    /** Forgets windows long past, so the table only holds recent attempts. */
    async sweep(): Promise<void> {
      await queryRows(
        db,
        sql`delete from ${attempts} where ${attempts.windowStart} < now() - ${keepSeconds} * interval '1 second'`,
      )
    },

    /** Starts the key afresh. */
    async forget(key: string): Promise<void> {
      await db.delete(attempts).where(inArray(attempts.key, [key]))
    },

    /** Takes one attempt back (a login that succeeded after all); answers the count left, if any. */
    async giveBack(key: string, { seconds }: CountingWindow): Promise<Usage | undefined> {
      const [row] = await db
        .update(attempts)
        .set({ failures: sql`greatest(${attempts.failures} - 1, 0)` })
        .where(inArray(attempts.key, [key]))
        .returning({
          count: attempts.failures,
          remaining: sql<number>`extract(epoch from ${attempts.windowStart} + ${seconds} * interval '1 second' - now())::float8`,
        })
      return row && { count: row.count, secondsLeft: row.remaining }
    },
  }
}

export type AttemptCounter = ReturnType<typeof createAttemptCounter>
