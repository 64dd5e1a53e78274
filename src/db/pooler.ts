import { parsePostgresUrl } from './postgres-options'

/**
 * What sits between the app and PostgreSQL. `transaction`: each transaction (or statement
 * outside one) may run on a different server connection, so nothing may outlive it.
 * `session`: one server connection per client connection, but a pooler that still refuses
 * startup parameters it does not know. `none`: PostgreSQL itself.
 */
export type PoolerMode = 'transaction' | 'session' | 'none'

export const POOLER_SETTINGS = ['auto', 'transaction', 'session', 'none'] as const
export type PoolerSetting = (typeof POOLER_SETTINGS)[number]

export interface DetectedPooler {
  mode: PoolerMode
  /** Why, for the start-up log: an operator who sees the wrong mode knows what to override. */
  reason: string
}

// AWS: `<proxy>.proxy-<id>.<region>.rds.amazonaws.com` (and `.com.cn` in China).
const RDS_PROXY = /\.proxy-[a-z0-9]+\.[a-z0-9-]+\.rds\.amazonaws\.com(\.cn)?$/

/**
 * The hosted poolers recognisable from the URL alone. When unsure, transaction mode is the
 * safe guess: treating a real server as a pooler costs some speed, the reverse corrupts
 * answers. Anything unrecognised is taken as PostgreSQL itself: DATABASE_POOLER says otherwise.
 */
export function detectPooler(rawUrl: string): DetectedPooler {
  const url = new URL(parsePostgresUrl(rawUrl).url)
  const host = url.hostname.toLowerCase()
  const port = url.port || '5432'
  if (host.includes('-pooler')) return { mode: 'transaction', reason: "Neon pooled host ('-pooler')" }
  if (host.endsWith('.pooler.supabase.com'))
    return port === '5432'
      ? { mode: 'session', reason: 'Supabase pooler, port 5432 (session mode)' }
      : { mode: 'transaction', reason: `Supabase pooler, port ${port} (transaction mode)` }
  if (RDS_PROXY.test(host)) return { mode: 'transaction', reason: 'RDS Proxy host' }
  if (port === '6543') return { mode: 'transaction', reason: 'port 6543 (Supabase transaction pooler)' }
  if (port === '6432') return { mode: 'transaction', reason: "port 6432 (PgBouncer's default port)" }
  if (host.endsWith('.db.ondigitalocean.com') && port === '25061')
    return { mode: 'transaction', reason: 'DigitalOcean connection pool, port 25061' }
  return { mode: 'none', reason: 'no known pooler host or port' }
}

/** The mode for `url` under a DATABASE_POOLER setting: an explicit one wins over detection. */
export function resolvePooler(setting: PoolerSetting, url: string): DetectedPooler {
  return setting === 'auto' ? detectPooler(url) : { mode: setting, reason: `DATABASE_POOLER=${setting}` }
}
