export interface RateLimiter {
  /** Takes one request from `key`'s budget: 0 when allowed, else seconds until it may retry. */
  take(key: string): number
}

const MAX_TRACKED_KEYS = 100_000

/**
 * Token bucket per key, in process memory: a guard against runaway clients, not an exact
 * quota (each instance counts on its own).
 */
export function createRateLimiter(perMinute: number, now: () => number = Date.now): RateLimiter {
  if (perMinute <= 0) return { take: () => 0 }
  const refillPerMs = perMinute / 60_000
  const buckets = new Map<string, { tokens: number; at: number }>()
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
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return 0
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000))
    },
  }
}
