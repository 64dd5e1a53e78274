/** One quota policy, and where a client stands in it after its request was counted. */
export interface QuotaState {
  /** The policy's name in both headers (`user`, `login-email`, ...). */
  policy: string
  /** Requests allowed per window (`q`). */
  quota: number
  /** The window, in seconds (`w`). */
  windowSeconds: number
  /** Requests left (`r`). */
  remaining: number
  /** Seconds until the quota is back to full (`t`). */
  resetSeconds: number
}

/** Reports a counted request; a later report of the same policy replaces the earlier one. */
export type ReportQuota = (state: QuotaState) => void

/** Elysia's `set.headers` for one request. */
type ResponseHeaders = Record<string, string | number | undefined>

// Per response: every policy reported so far, whichever code reported it (the auth plugin, then
// a handler), so the headers list them all.
const reported = new WeakMap<ResponseHeaders, Map<string, QuotaState>>()

const nonNegative = (n: number) => Math.max(0, Math.floor(n))
const windowOf = (s: QuotaState) => Math.max(1, nonNegative(s.windowSeconds))
// Never past the window: a window start stored to the millisecond (rounded up) can make the
// time left come out a fraction of a second longer than the window itself.
const resetOf = (s: QuotaState) => Math.min(Math.ceil(Math.max(0, s.resetSeconds)), windowOf(s))

/**
 * Writes `RateLimit-Policy` and `RateLimit` as draft-ietf-httpapi-ratelimit-headers (-10, -11)
 * defines them: structured-field lists of string items with integer parameters,
 * `RateLimit-Policy: "user";q=600;w=60` and `RateLimit: "user";r=599;t=1`.
 */
export function quotaHeaders(headers: ResponseHeaders): ReportQuota {
  return (state) => {
    let states = reported.get(headers)
    if (!states) {
      states = new Map()
      reported.set(headers, states)
    }
    states.set(state.policy, state)
    const all = [...states.values()]
    headers['ratelimit-policy'] = all.map((s) => `"${s.policy}";q=${nonNegative(s.quota)};w=${windowOf(s)}`).join(', ')
    headers.ratelimit = all.map((s) => `"${s.policy}";r=${nonNegative(s.remaining)};t=${resetOf(s)}`).join(', ')
  }
}

/** For callers that count without anyone to tell (tests, scripts). */
export const ignoreQuota: ReportQuota = () => {}
