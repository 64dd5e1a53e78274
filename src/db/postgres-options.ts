import type { Options } from 'postgres'

type SslMode = Options<Record<string, never>>['ssl']

const SSL_MODES: Record<string, SslMode> = {
  disable: false,
  allow: 'allow',
  prefer: 'prefer',
  require: 'require',
  'verify-ca': 'verify-full',
  'verify-full': 'verify-full',
}

// libpq options that hosted providers put in their URLs but that are not server settings:
// passed through, postgres.js would send them as startup parameters and the server refuses.
const CLIENT_ONLY_PARAMS = ['sslmode', 'channel_binding', 'sslrootcert', 'sslcert', 'sslkey', 'target_session_attrs']

export interface PostgresTarget {
  url: string
  ssl: SslMode
}

/**
 * Accepts the URL styles users paste from other stacks (`postgresql+asyncpg://...`) and turns
 * `sslmode` into postgres.js's `ssl` option.
 */
export function parsePostgresUrl(raw: string): PostgresTarget {
  const url = new URL(raw.replace(/^postgres(ql)?\+[a-z0-9]+:/i, 'postgres:'))
  const mode = url.searchParams.get('sslmode')?.toLowerCase()
  for (const param of CLIENT_ONLY_PARAMS) url.searchParams.delete(param)
  const ssl = mode === undefined ? false : SSL_MODES[mode]
  if (ssl === undefined) throw new Error(`unknown sslmode "${mode}"`)
  return { url: url.toString(), ssl }
}
