import type { AccountsConfig } from '../../config'
import { ignoreQuota, type ReportQuota } from '../../http/rate-limit-headers'
import { type AttemptCounter, type CountingWindow, type Usage, waitFor } from './attempt-counter'

export interface ThrottleKeys {
  /** A login's email; or, for password changes, `account` (a user id) instead. */
  email?: string
  /** Password changes of one account, counted apart from every email's logins. */
  account?: string
  address?: string
}

// Policy names in the RateLimit headers.
const EMAIL_POLICY = 'login-email'
const ADDRESS_POLICY = 'login-address'

// Apart by prefix: an account id may look like an email (`password-change:a@b.c` was both a
// login email and one account's password-change count).
const ownKey = ({ email, account }: ThrottleKeys) =>
  account === undefined ? `email:${email}` : `account-password:${account}`

/**
 * Counts login attempts per email and per client address (see createAttemptCounter). A
 * successful login then takes its reservation back. Each count is reported (`report`) for the
 * RateLimit headers.
 */
export function createLoginThrottle(counter: AttemptCounter, config: AccountsConfig) {
  const seconds = config.failureWindowSeconds
  const emailWindow: CountingWindow = { limit: config.maxFailuresPerEmail, seconds }
  const addressWindow: CountingWindow = { limit: config.maxFailuresPerAddress, seconds }
  // The address first: a client it already refuses must not run up anyone's email count.
  const keysOf = ({ address, ...keys }: ThrottleKeys) => [
    ...(address ? [{ key: `address:${address}`, window: addressWindow, policy: ADDRESS_POLICY }] : []),
    { key: ownKey(keys), window: emailWindow, policy: EMAIL_POLICY },
  ]
  const stateOf = (policy: string, window: CountingWindow, usage: Usage) => ({
    policy,
    quota: window.limit,
    windowSeconds: window.seconds,
    remaining: window.limit - usage.count,
    resetSeconds: usage.secondsLeft,
  })

  return {
    /** Counts one attempt; answers seconds to wait when it is over a limit, else 0. */
    async reserve(keys: ThrottleKeys, report: ReportQuota = ignoreQuota): Promise<number> {
      let wait = 0
      for (const { key, window, policy } of keysOf(keys)) {
        const usage = await counter.take(key, window)
        report(stateOf(policy, window, usage))
        const left = waitFor(usage, window.limit)
        if (left > 0) {
          wait = Math.max(1, Math.ceil(left))
          break
        }
      }
      await counter.sweep()
      return wait
    },

    /** After a successful login: the email starts afresh, the address gets its attempt back. */
    async succeeded(keys: ThrottleKeys, report: ReportQuota = ignoreQuota): Promise<void> {
      await counter.forget(ownKey(keys))
      report(stateOf(EMAIL_POLICY, emailWindow, { count: 0, secondsLeft: seconds }))
      if (!keys.address) return
      const usage = await counter.giveBack(`address:${keys.address}`, addressWindow)
      if (usage) report(stateOf(ADDRESS_POLICY, addressWindow, usage))
    },
  }
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>
