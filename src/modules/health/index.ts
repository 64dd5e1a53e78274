import { Elysia } from 'elysia'
import type { Db } from '../../db/client'
import { isMigrated } from '../../db/migrate'
import type { PoolerMode } from '../../db/pooler'
import { serviceUnavailable } from '../../http/problem'
import { models } from '../../schema/models'
import { problems } from '../../schema/problem'

export const healthModule = ({
  db,
  latestMigration,
  pooler,
}: {
  db: Db
  latestMigration: number
  pooler: PoolerMode
}) =>
  new Elysia({ name: 'health' })
    .use(models)
    .get('/health', () => ({ status: 'ok' as const }), {
      response: { 200: 'Health' },
      detail: {
        operationId: 'health',
        summary: 'Liveness: the process answers (no database, no auth)',
        tags: ['operations'],
      },
    })
    .get(
      '/ready',
      async () => {
        const ready = await isMigrated(db, latestMigration).catch(() => false)
        if (!ready) throw serviceUnavailable('The database is not reachable or not migrated yet.')
        return { status: 'ready' as const, pooler }
      },
      {
        response: { 200: 'Ready', ...problems(503) },
        detail: {
          operationId: 'ready',
          summary: 'Readiness: the database answers and is migrated',
          tags: ['operations'],
        },
      },
    )
