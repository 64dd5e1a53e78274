import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Db } from '../../db/client'
import { ProblemError } from '../../http/problem'
import { rejectRepeatedParams, rejectUndecodableParams, requirePlainDecimals } from '../../http/query'
import { models } from '../../schema/models'
import { problems } from '../../schema/problem'
import { UserParams } from '../tasks/model'
import { ChangesQuery, DEFAULT_CHANGES_PAGE, toChangeFeed } from './model'
import { EXPIRED, readChanges } from './service'

export interface SyncDeps {
  db: Db
  auth: AuthPlugin
}

export const syncTokenExpired = () =>
  new ProblemError(
    410,
    'sync_token_expired',
    'This sync token is too old (or was never issued here): sync again from the start, without `since`.',
  )

export const syncModule = ({ db, auth }: SyncDeps) =>
  new Elysia({ name: 'sync', prefix: '/api/:user_id' })
    .use(models)
    .use(auth)
    .onTransform(({ query }) => requirePlainDecimals(query as Record<string, unknown>, ['limit']))
    .get(
      '/changes',
      async ({ userId, query }) => {
        const since = query.since === undefined ? undefined : Number(query.since)
        const page = await readChanges(db, userId, since, query.limit ?? DEFAULT_CHANGES_PAGE)
        if (page === EXPIRED) throw syncTokenExpired()
        return toChangeFeed(page)
      },
      {
        auth: true,
        params: UserParams,
        query: ChangesQuery,
        beforeHandle: ({ request }) => {
          rejectUndecodableParams(request)
          rejectRepeatedParams(request, ['since', 'limit'])
        },
        response: { 200: 'ChangeFeed', ...problems(400, 401, 403, 410, 429, 503) },
        detail: {
          operationId: 'listChanges',
          summary: 'What changed in your tasks and lists since a sync token',
          description:
            'Without `since`: every task and list you have, and a token. With `since`: every task and list created, changed, restored or gone since that token, oldest first, each once in its latest state; tombstones for the ones gone. Follow `next` while `has_more`. A token older than TOMBSTONE_RETENTION is a 410 `sync_token_expired`: sync again without `since`.',
          tags: ['sync'],
          security: [{ bearer: [] }],
        },
      },
    )
