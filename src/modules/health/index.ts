import { Elysia, t } from 'elysia'
import type { Db } from '../../db/client'
import { isMigrated } from '../../db/migrate'
import { serviceUnavailable } from '../../http/problem'
import { ProblemSchema } from '../../http/problem-schema'

export const healthModule = ({ db, latestMigration }: { db: Db; latestMigration: number }) =>
  new Elysia({ name: 'health' })
    .get('/health', () => ({ status: 'ok' as const }), {
      response: { 200: t.Object({ status: t.Literal('ok') }) },
      detail: { summary: 'Liveness: the process answers (no database, no auth)', tags: ['operations'] },
    })
    .get(
      '/ready',
      async () => {
        const ready = await isMigrated(db, latestMigration).catch(() => false)
        if (!ready) throw serviceUnavailable('The database is not reachable or not migrated yet.')
        return { status: 'ready' as const }
      },
      {
        response: { 200: t.Object({ status: t.Literal('ready') }), 503: ProblemSchema },
        detail: { summary: 'Readiness: the database answers and is migrated', tags: ['operations'] },
      },
    )
