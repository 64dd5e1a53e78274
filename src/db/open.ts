import { join } from 'node:path'
import type { Config } from '../config'
import type { Logger } from '../logger'
import { type Database, openPglite, openPostgres } from './client'

/** Postgres when DATABASE_URL is set, else the embedded database persisted in DATA_DIR. */
export function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'databaseUrlDirect' | 'dataDir' | 'pooler' | 'directPooler'>,
  logger?: Logger,
): Promise<Database> {
  return config.databaseUrl
    ? openPostgres(config.databaseUrl, {
        sessionUrl: config.databaseUrlDirect,
        pooler: config.pooler.mode,
        sessionPooler: config.directPooler.mode,
        logger,
      })
    : openPglite(join(config.dataDir, 'pglite'))
}
