import type { EventFigures } from './events'

// The sync figures of `bun run bench` (issue 13): the change feed for a user with many tasks,
// and what an Idempotency-Key costs on create. Each is measured against the running server,
// from this process, with its baseline in the same run.

export interface FeedFigures {
  /** Entries in the first sync (tasks and lists), and the pages it took at `limit`. */
  entries: number
  pages: number
  limit: number
  firstSyncMs: number
  pageP50Ms: number
  pageP99Ms: number
  /** A catch-up after `changed` writes: one request. */
  changed: number
  catchUpMs: number
}

export interface LoopFigures {
  rps: number
  p50: number
  p99: number
  errors: number
}

export interface SyncOutcome {
  events?: EventFigures
  feed?: FeedFigures
  create?: LoopFigures
  createWithKey?: LoopFigures
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number)
const round = (n: number) => Math.round(n * 100) / 100

/** A first sync of the user's whole feed, page by page, then a catch-up after a few writes. */
export async function feedFigures(base: string, user: string, token: string, limit = 1000): Promise<FeedFigures> {
  const headers = { authorization: `Bearer ${token}` }
  const times: number[] = []
  let entries = 0
  let since: string | undefined
  const began = performance.now()
  for (;;) {
    const t0 = performance.now()
    const res = await fetch(`${base}/api/${user}/changes?limit=${limit}${since ? `&since=${since}` : ''}`, { headers })
    if (res.status !== 200) throw new Error(`changes answered ${res.status}: ${await res.text()}`)
    const page = (await res.json()) as { changes: unknown[]; next: string; has_more: boolean }
    times.push(performance.now() - t0)
    entries += page.changes.length
    since = page.next
    if (!page.has_more) break
  }
  const firstSyncMs = performance.now() - began
  const changed = 10
  for (let i = 0; i < changed; i++) {
    const res = await fetch(`${base}/api/${user}/tasks`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ title: `catch-up ${i}` }),
    })
    if (res.status !== 201) throw new Error(`create answered ${res.status}`)
  }
  const t0 = performance.now()
  const res = await fetch(`${base}/api/${user}/changes?limit=${limit}&since=${since}`, { headers })
  const catchUp = (await res.json()) as { changes: unknown[] }
  const catchUpMs = performance.now() - t0
  // Each create changes the task and its list: the list once, in its latest state.
  if (catchUp.changes.length !== changed + 1) throw new Error(`catch-up gave ${catchUp.changes.length} changes`)
  const sorted = [...times].sort((a, b) => a - b)
  return {
    entries,
    pages: times.length,
    limit,
    firstSyncMs: Math.round(firstSyncMs),
    pageP50Ms: round(quantile(sorted, 0.5)),
    pageP99Ms: round(quantile(sorted, 0.99)),
    changed,
    catchUpMs: round(catchUpMs),
  }
}

/**
 * Creates tasks from `connections` concurrent loops for `seconds`, each request for the next
 * user in turn; with `keyed`, each carries a fresh Idempotency-Key. The generator is this
 * process: both variants pay for it alike, so their ratio is what the key costs.
 */
export async function createLoop(
  base: string,
  users: { id: string; token: string }[],
  options: { connections: number; seconds: number; keyed: boolean },
): Promise<LoopFigures> {
  const latencies: number[] = []
  let errors = 0
  let next = 0
  const end = performance.now() + options.seconds * 1000
  const loop = async () => {
    while (performance.now() < end) {
      const user = users[next++ % users.length] as { id: string; token: string }
      const headers: Record<string, string> = {
        authorization: `Bearer ${user.token}`,
        'content-type': 'application/json',
      }
      if (options.keyed) headers['idempotency-key'] = crypto.randomUUID()
      const t0 = performance.now()
      const res = await fetch(`${base}/api/${user.id}/tasks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ title: 'bench create' }),
      })
      await res.arrayBuffer()
      latencies.push(performance.now() - t0)
      if (res.status !== 201) errors++
    }
  }
  await Promise.all(Array.from({ length: options.connections }, loop))
  const sorted = latencies.sort((a, b) => a - b)
  return {
    rps: Math.round(latencies.length / options.seconds),
    p50: round(quantile(sorted, 0.5)),
    p99: round(quantile(sorted, 0.99)),
    errors,
  }
}
