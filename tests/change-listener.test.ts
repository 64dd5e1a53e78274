import { describe, expect, test } from 'bun:test'
import { listenPostgres, listenUrl } from '../src/db/change-listener'
import { createLogger } from '../src/logger'

describe('where the change listener connects', () => {
  const neonPooled = 'postgres://u:p@ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech/app'

  test('PostgreSQL itself, or a session pooler: DATABASE_URL (or DATABASE_URL_DIRECT when given)', () => {
    expect(listenUrl('postgres://db:5432/app', undefined, 'none')).toBe('postgres://db:5432/app')
    expect(listenUrl('postgres://pool:6543/app', 'postgres://db:5432/app', 'none')).toBe('postgres://db:5432/app')
    expect(listenUrl('postgres://pool.pooler.supabase.com:5432/app', undefined, 'session')).toBe(
      'postgres://pool.pooler.supabase.com:5432/app',
    )
  })

  test("Neon's pooled host: the same host without -pooler (its direct endpoint)", () => {
    expect(listenUrl(neonPooled, undefined, 'transaction')).toBe(
      'postgres://u:p@ep-cool-name-123456.eu-central-1.aws.neon.tech/app',
    )
  })

  test('another transaction pooler without a direct URL: none (the streams poll)', () => {
    expect(listenUrl('postgres://pgbouncer:6432/app', undefined, 'transaction')).toBeUndefined()
    expect(listenUrl('postgres://x.pooler.supabase.com:6543/app', undefined, 'transaction')).toBeUndefined()
  })
})

describe('without LISTEN', () => {
  test('everyone is asked to look at the feed at each polling tick, and the log says so once', async () => {
    const lines: string[] = []
    const listener = await listenPostgres({
      url: undefined,
      ssl: undefined,
      logger: createLogger('debug', (line) => lines.push(line)),
      probe: async () => {},
      pollMs: 100,
    })
    try {
      expect(listener.mode).toBe('poll')
      const seen: (string | null)[] = []
      listener.onChange((user) => seen.push(user))
      await Bun.sleep(350)
      expect(seen).toEqual([null, null, null])
      expect(lines.filter((l) => l.includes('poll the change feed')).length).toBe(1)
    } finally {
      await listener.close()
    }
  })
})
