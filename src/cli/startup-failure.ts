import type { Config } from '../config'
import { describeConnectFailure } from '../db/connection-failure'
import { DataDirInUseError } from '../db/data-dir-lock'
import { MigrationLockTimeoutError } from '../db/migrate'
import { parsePostgresUrl } from '../db/postgres-options'
import { createLogger, type LogFields } from '../logger'

interface Cause {
  msg: string
  fields?: LogFields
}

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code

/** A failure the operator can act on, as one sentence; anything else is a bug. */
function describe(error: unknown, config: Config | undefined): Cause | undefined {
  if (error instanceof DataDirInUseError)
    return { msg: error.message, fields: { data_dir: error.dir, holder_pid: error.holderPid } }
  if (error instanceof MigrationLockTimeoutError)
    return { msg: error.message, fields: { holder_pid: error.holder?.pid } }
  if (config && codeOf(error) === 'EADDRINUSE') return { msg: `port ${config.port} is in use` }
  if (config && codeOf(error) === 'EACCES' && /port/i.test(String((error as Error).message)))
    return { msg: `cannot listen on port ${config.port}: permission denied` }
  // At start-up only migrations connect, through the direct URL.
  const url = config?.databaseUrlDirect ?? config?.databaseUrl
  const unreachable = url && describeConnectFailure(error, parsePostgresUrl(url).url)
  if (unreachable) return { msg: unreachable }
  return undefined
}

/**
 * Ends a command that could not start: one JSON log line naming the cause (or, for an
 * unexpected error, the error itself, with the logger's redaction), and exit code 1.
 */
export function exitOnStartupFailure(error: unknown, config?: Config): never {
  const logger = createLogger('error')
  const cause = describe(error, config)
  if (cause) logger.error(cause.msg, cause.fields)
  else logger.error('start-up failed', { err: error })
  process.exit(1)
}
