import type { QuotaState } from './rate-limit-headers'

export interface RateLimitDecision {
  /** 0 when allowed, else seconds until the key may retry. */
  retryAfter: number
  /** Where the key stands afterwards, for the RateLimit headers. */
  quota: QuotaState
}

export interface RateLimiter {
  /** Takes one request from `key`'s budget; undefined when the limiter is switched off. */
  take(key: string): RateLimitDecision | undefined
}

const MAX_TRACKED_KEYS = 100_000
export const PER_USER_POLICY = 'user'

/**
 * Token bucket per key, in process memory: a guard against runaway clients, not an exact
 * quota (each instance counts on its own). Advertised as `perMinute` requests in 60 s; its
 * reset time is how long the bucket takes to fill up again.
 */
export function createRateLimiter(perMinute: number, now: () => number = Date.now): RateLimiter {
  if (perMinute <= 0) return { take: () => undefined }
  const refillPerMs = perMinute / 60_000
  const buckets = new Map<string, { tokens: number; at: number }>()
  const secondsUntil = (tokens: number, bucket: { tokens: number }) =>
    Math.max(0, (tokens - bucket.tokens) / refillPerMs / 1000)
  return {
    take(key) {
      const t = now()
      const bucket = buckets.get(key) ?? { tokens: perMinute, at: t }
      bucket.tokens = Math.min(perMinute, bucket.tokens + (t - bucket.at) * refillPerMs)
      bucket.at = t
      // Re-inserting keeps the Map in least-recently-used order for eviction.
      buckets.delete(key)
      if (buckets.size >= MAX_TRACKED_KEYS) buckets.delete(buckets.keys().next().value as string)
      buckets.set(key, bucket)
      const allowed = bucket.tokens >= 1
      if (allowed) bucket.tokens -= 1
      const quota: QuotaState = {
        policy: PER_USER_POLICY,
        quota: perMinute,
        windowSeconds: 60,
        remaining: Math.floor(bucket.tokens),
        resetSeconds: secondsUntil(perMinute, bucket),
      }
      return { retryAfter: allowed ? 0 : Math.max(1, Math.ceil(secondsUntil(1, bucket))), quota }
    },
  }
}
