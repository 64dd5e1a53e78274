import type { AccountsConfig } from '../../config'
import { rateLimited } from '../../http/problem'
import { ignoreQuota, type ReportQuota } from '../../http/rate-limit-headers'
import { type AttemptCounter, type CountingWindow, waitFor } from './attempt-counter'

// Refusals remembered at once; past it the oldest is forgotten (and asked of Postgres again).
const MAX_REMEMBERED = 10_000

/**
 * Sign-ups and refreshes per client address, on the same counters as failed logins but under
 * keys of their own. Every attempt counts, whatever its outcome. A request whose address is
 * unknown is not limited here.
 *
 * Within a window these counts only grow, so a key refused once stays refused until its
 * window ends: this instance remembers that and answers a flood from one address without
 * asking Postgres each time.
 */
export function createAddressLimits(counter: AttemptCounter, config: AccountsConfig, now: () => number = Date.now) {
  const refusedUntil = new Map<string, number>()
  // `prefix` is also the policy's name in the RateLimit headers.
  const limit =
    (prefix: string, window: CountingWindow) =>
    async (address: string | undefined, report: ReportQuota = ignoreQuota) => {
      if (address === undefined) return
      const key = `${prefix}:${address}`
      const state = { policy: prefix, quota: window.limit, windowSeconds: window.seconds }
      let left = ((refusedUntil.get(key) ?? 0) - now()) / 1000
      if (left > 0) report({ ...state, remaining: 0, resetSeconds: left })
      else {
        refusedUntil.delete(key)
        const usage = await counter.take(key, window)
        await counter.sweep()
        report({ ...state, remaining: window.limit - usage.count, resetSeconds: usage.secondsLeft })
        left = waitFor(usage, window.limit)
        if (left > 0) {
          if (refusedUntil.size >= MAX_REMEMBERED) refusedUntil.delete(refusedUntil.keys().next().value as string)
          refusedUntil.set(key, now() + left * 1000)
        }
      }
      if (left > 0) throw rateLimited(Math.max(1, Math.ceil(left)))
    }
  return {
    /** Throws a 429 problem past SIGNUP_MAX_PER_ADDRESS. */
    signUp: limit('signup', { limit: config.maxSignUpsPerAddress, seconds: config.signUpWindowSeconds }),
    /** Throws a 429 problem past REFRESH_MAX_PER_ADDRESS. */
    refresh: limit('refresh', { limit: config.maxRefreshesPerAddress, seconds: config.refreshWindowSeconds }),
  }
}

export type AddressLimits = ReturnType<typeof createAddressLimits>

/** How long counts are kept: twice the longest window, as the login throttle always did. */
export const attemptRetentionSeconds = (config: AccountsConfig) =>
  2 * Math.max(config.failureWindowSeconds, config.signUpWindowSeconds, config.refreshWindowSeconds)
