import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Db } from '../../db/client'
import { etagOf } from '../../http/conditional'
import { notFound } from '../../http/problem'
import { rejectUndecodableParams } from '../../http/query'
import { requestLogger } from '../../http/request-context'
import type { Logger } from '../../logger'
import { header } from '../../schema/headers'
import { models } from '../../schema/models'
import { NoContent, problems } from '../../schema/problem'
import type { CursorCodec } from '../tasks/cursor'
import { DEFAULT_PAGE_SIZE, plainIdAndLimit, TaskParams, toTask, UserParams } from '../tasks/model'
import { storedToTask, TrashQuery } from './model'
import * as service from './service'

export interface TrashDeps {
  db: Db
  auth: AuthPlugin
  cursors: CursorCodec
  logger: Logger
}

const notInTrash = () => notFound('No task with that id in your trash.')
const security = [{ bearer: [] }]
const tags = ['trash']
const authenticated = [401, 403, 429, 503] as const
const withQuery = [400, ...authenticated] as const
// The trash has no filters or sorts: every cursor belongs to this one query.
const CURSOR_QUERY = 'trash'

export const trashModule = ({ db, auth, cursors, logger }: TrashDeps) => {
  const decodableQuery = ({ request }: { request: Request }) => rejectUndecodableParams(request)
  const log = (request: Request, message: string, fields: Record<string, unknown>) =>
    requestLogger(logger, request).info(message, fields)

  return (
    new Elysia({ name: 'trash', prefix: '/api/:user_id' })
      .use(models)
      .use(auth)
      // As on the task routes: only a plain decimal id in range names a task.
      .onTransform(plainIdAndLimit)
      .get(
        '/trash',
        async ({ userId, query, request, set }) => {
          const limit = query.limit ?? DEFAULT_PAGE_SIZE
          const after = query.cursor === undefined ? undefined : cursors.decode(query.cursor, CURSOR_QUERY)
          const page = await service.listTrash(db, userId, limit, after)
          if (page.next) {
            const next = new URL(request.url)
            next.searchParams.set('limit', String(limit))
            next.searchParams.set('cursor', cursors.encode(CURSOR_QUERY, page.next))
            set.headers.link = `<${next.pathname}${next.search}>; rel="next"`
          }
          return page.items.map((item) => ({
            ...storedToTask(item.task, item.reminders),
            deleted_at: item.deletedAt.toISOString(),
            subtask_total: item.subtaskTotal,
          }))
        },
        {
          auth: true,
          params: UserParams,
          query: TrashQuery,
          beforeHandle: decodableQuery,
          response: { 200: 'TrashPage', ...problems(...withQuery) },
          detail: {
            operationId: 'listTrash',
            summary: 'Your deleted tasks, newest first',
            description:
              'Each item is a task as it was when deleted, with `deleted_at` and how many subtasks went with it (`subtask_total`); its subtasks are not listed on their own. Items are purged for good after TRASH_RETENTION (30 days by default). When more items exist than `limit`, the response carries `Link: <...>; rel="next"`.',
            tags,
            security,
            responses: {
              200: {
                description: 'A page of the trash',
                headers: { Link: header('`<url>; rel="next"` while more items remain: the next page') },
              },
            },
          },
        },
      )
      .post(
        '/trash/:id/restore',
        async ({ userId, params, request, set }) => {
          const row = await service.restoreTask(db, userId, params.id)
          if (!row) throw notInTrash()
          log(request, 'task restored', { user_id: userId, task_id: params.id })
          set.headers.etag = etagOf(row.version)
          return toTask(row)
        },
        {
          auth: true,
          params: TaskParams,
          response: { 200: 'Task', ...problems(...authenticated, 404) },
          detail: {
            operationId: 'restoreTask',
            summary: 'Put a deleted task back, with its subtasks',
            description:
              'It comes back with the same ids, list, parent and position. When its list is gone it goes to the top level of your default list; when its parent is gone (deleted, or in the trash) or is now too deep to hold it, to the top level of its list. 404 when the id is not a task in your trash (a subtask comes back with the task that was deleted).',
            tags,
            security,
            responses: {
              200: { description: 'The restored task', headers: { ETag: header('The task\'s new version, `"12"`') } },
            },
          },
        },
      )
      .delete(
        '/trash/:id',
        async ({ userId, params, request, status }) => {
          if (!(await service.purgeItem(db, userId, params.id))) throw notInTrash()
          log(request, 'task purged', { user_id: userId, task_id: params.id })
          return status(204, undefined)
        },
        {
          auth: true,
          params: TaskParams,
          response: { 204: NoContent, ...problems(...authenticated, 404) },
          detail: {
            operationId: 'purgeTask',
            summary: 'Delete a task in the trash for good, with its subtasks',
            description:
              'It cannot be restored after this; the change feed reports it (and each subtask) as purged. 404 when the id is not a task in your trash.',
            tags,
            security,
            responses: { 204: { description: 'Gone for good' } },
          },
        },
      )
      .delete(
        '/trash',
        async ({ userId, request, status }) => {
          const purged = await service.emptyTrash(db, userId)
          log(request, 'trash emptied', { user_id: userId, tasks: purged })
          return status(204, undefined)
        },
        {
          auth: true,
          params: UserParams,
          response: { 204: NoContent, ...problems(...authenticated) },
          detail: {
            operationId: 'emptyTrash',
            summary: 'Delete everything in the trash for good',
            description: 'As purging each item; 204 also when the trash was empty already.',
            tags,
            security,
            responses: { 204: { description: 'The trash is empty' } },
          },
        },
      )
  )
}
