import { inArray, sql } from 'drizzle-orm'
import type { AccountsConfig } from '../../config'
import { type Db, queryRows } from '../../db/client'
import { loginFailures } from '../../db/schema'

export interface ThrottleKeys {
  email: string
  address?: string
}

/**
 * Counts login attempts per email and per client address in fixed windows, in Postgres so
 * that every instance sees the same counts.
 *
 * An attempt is counted *before* the password is checked, in one atomic upsert, so a burst of
 * parallel guesses cannot all read "no failures yet": the attempt past the limit is refused
 * whatever the password. A successful login then takes its reservation back.
 */
export function createLoginThrottle(db: Db, config: AccountsConfig) {
  const window = sql`${config.failureWindowSeconds} * interval '1 second'`
  const expired = sql`${loginFailures.windowStart} <= now() - ${window}`
  // The address first: a client it already refuses must not run up anyone's email count.
  const keysOf = ({ email, address }: ThrottleKeys) => [...(address ? [`address:${address}`] : []), `email:${email}`]
  const limitOf = (key: string) =>
    key.startsWith('email:') ? config.maxFailuresPerEmail : config.maxFailuresPerAddress

  return {
    /** Counts one attempt; answers seconds to wait when it is over a limit, else 0. */
    async reserve(keys: ThrottleKeys): Promise<number> {
      let wait = 0
      for (const key of keysOf(keys)) {
        const [row] = await db
          .insert(loginFailures)
          .values({ key, failures: 1, windowStart: sql`now()` })
          .onConflictDoUpdate({
            target: loginFailures.key,
            set: {
              failures: sql`case when ${expired} then 1 else ${loginFailures.failures} + 1 end`,
              windowStart: sql`case when ${expired} then now() else ${loginFailures.windowStart} end`,
            },
          })
          .returning({
            failures: loginFailures.failures,
            remaining: sql<number>`extract(epoch from ${loginFailures.windowStart} + ${window} - now())::float8`,
          })
        if (row && row.failures > limitOf(key)) {
          wait = Math.max(1, Math.ceil(row.remaining))
          break
        }
      }
      // Forget windows long past, so the table only holds recent attempts.
      await queryRows(db, sql`delete from ${loginFailures} where ${loginFailures.windowStart} < now() - 2 * ${window}`)
      return wait
    },

    /** After a successful login: the email starts afresh, the address gets its attempt back. */
    async succeeded(keys: ThrottleKeys): Promise<void> {
      await db.delete(loginFailures).where(inArray(loginFailures.key, [`email:${keys.email}`]))
      if (keys.address)
        await db
          .update(loginFailures)
          .set({ failures: sql`greatest(${loginFailures.failures} - 1, 0)` })
          .where(inArray(loginFailures.key, [`address:${keys.address}`]))
    },
  }
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>
