import { type Context, Elysia } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Db } from '../../db/client'
import type { ListRow } from '../../db/schema'
import { etagOf, ifMatchVersions, noneMatchHits } from '../../http/conditional'
import { notFound } from '../../http/problem'
import { rejectRepeatedParams, rejectUndecodableParams } from '../../http/query'
import { requestLogger } from '../../http/request-context'
import type { Logger } from '../../logger'
import { IfMatch, IfNoneMatch, notModified } from '../../schema/conditional'
import { header } from '../../schema/headers'
import { models } from '../../schema/models'
import { NoContent, problems } from '../../schema/problem'
import { NoQuery, namesARow, UserParams } from '../tasks/model'
import { DeleteListQuery, ListParams, toList } from './model'
import * as service from './service'

export interface ListsDeps {
  db: Db
  auth: AuthPlugin
  logger: Logger
}

const noList = () => notFound('No list with that id.')

/** The list's public shape, its version in `ETag`. */
const tagged = (set: Context['set'], row: ListRow) => {
  set.headers.etag = etagOf(row.version)
  return toList(row)
}
const taggedResponse = { 200: { description: 'The list', headers: { ETag: header('The list\'s version, `"12"`') } } }
const security = [{ bearer: [] }]
const tags = ['lists']
const authenticated = [401, 403, 429, 503] as const
const withQuery = [400, ...authenticated] as const
const withBody = [400, 413, 415, ...authenticated] as const

export const listsModule = ({ db, auth, logger }: ListsDeps) => {
  const decodableQuery = ({ request }: { request: Request }) => rejectUndecodableParams(request)
  // `?tasks=move&tasks=delete` says two things; the last one must not win (it could delete tasks).
  const deleteQuery = ({ request }: { request: Request }) => {
    rejectUndecodableParams(request)
    rejectRepeatedParams(request, ['tasks'])
  }
  const log = (request: Request, message: string, userId: string, listId: number) =>
    requestLogger(logger, request).info(message, { user_id: userId, list_id: listId })

  return new Elysia({ name: 'lists', prefix: '/api/:user_id' })
    .use(models)
    .use(auth)
    .onTransform(({ params }) => {
      // As for task ids: only a plain decimal id in range names a list (see the tasks module).
      const raw = (params as Record<string, string | undefined>).list_id
      if (raw !== undefined && !namesARow(raw)) (params as Record<string, string>).list_id = 'not-an-id'
    })
    .get('/lists', async ({ userId }) => (await service.listLists(db, userId)).map(toList), {
      auth: true,
      params: UserParams,
      query: NoQuery,
      beforeHandle: decodableQuery,
      response: { 200: 'ListList', ...problems(...withQuery) },
      detail: { operationId: 'listLists', summary: 'Your lists, in their manual order', tags, security },
    })
    .post(
      '/lists',
      async ({ userId, body, params, request, set, status }) => {
        const row = await service.createList(db, userId, body)
        log(request, 'list created', userId, row.id)
        set.headers.location = `/api/${encodeURIComponent(params.user_id)}/lists/${row.id}`
        return status(201, tagged(set, row))
      },
      {
        auth: true,
        params: UserParams,
        parse: 'json',
        body: 'CreateList',
        response: { 201: 'List', ...problems(...withBody, 409) },
        detail: {
          operationId: 'createList',
          summary: 'Create a list (it goes last)',
          description: `409 \`list_name_taken\` when you have a list of that name (in any case); 409 \`list_limit\` past 500 lists.`,
          tags,
          security,
          responses: {
            201: {
              description: 'Created',
              headers: { Location: header('Path of the new list'), ETag: header('Its version, `"12"`') },
            },
          },
        },
      },
    )
    .get(
      '/lists/:list_id',
      async ({ userId, params, request, set, status }) => {
        const row = await service.getList(db, userId, params.list_id)
        if (!row) throw noList()
        const list = tagged(set, row)
        if (noneMatchHits(request, etagOf(row.version))) return status(304, undefined)
        return list
      },
      {
        auth: true,
        params: ListParams,
        headers: IfNoneMatch,
        response: { 200: 'List', ...notModified, ...problems(...authenticated, 404) },
        detail: {
          operationId: 'getList',
          summary: 'Get one list',
          tags,
          security,
          responses: { ...taggedResponse, 304: { description: 'Unchanged since the `ETag` you sent' } },
        },
      },
    )
    .patch(
      '/lists/:list_id',
      async ({ userId, params, body, request, set }) => {
        const row = await service.updateList(db, userId, params.list_id, body, ifMatchVersions(request))
        if (!row) throw noList()
        log(request, 'list updated', userId, row.id)
        return tagged(set, row)
      },
      {
        auth: true,
        params: ListParams,
        headers: IfMatch,
        parse: 'json',
        body: 'UpdateList',
        response: { 200: 'List', ...problems(...withBody, 404, 409, 412) },
        detail: {
          operationId: 'updateList',
          summary: 'Rename or recolour a list',
          tags,
          security,
          responses: taggedResponse,
        },
      },
    )
    .delete(
      '/lists/:list_id',
      async ({ userId, params, query, request, status }) => {
        if (!(await service.deleteList(db, userId, params.list_id, query.tasks, ifMatchVersions(request))))
          throw noList()
        log(request, 'list deleted', userId, params.list_id)
        return status(204, undefined)
      },
      {
        auth: true,
        params: ListParams,
        query: DeleteListQuery,
        beforeHandle: deleteQuery,
        headers: IfMatch,
        response: { 204: NoContent, ...problems(...withQuery, 404, 409, 412) },
        detail: {
          operationId: 'deleteList',
          summary: 'Delete a list',
          description:
            'The default list is never deleted (409 `default_list`). A list with tasks needs `?tasks=delete` or `?tasks=move`; without it the answer is 409 `list_not_empty` with `task_count`.',
          tags,
          security,
          responses: { 204: { description: 'Deleted' } },
        },
      },
    )
    .post(
      '/lists/:list_id/move',
      async ({ userId, params, body, request, set }) => {
        const row = await service.moveList(
          db,
          userId,
          params.list_id,
          { afterId: body.after_id, beforeId: body.before_id },
          ifMatchVersions(request),
        )
        if (!row) throw noList()
        log(request, 'list moved', userId, row.id)
        return tagged(set, row)
      },
      {
        auth: true,
        params: ListParams,
        headers: IfMatch,
        parse: 'json',
        body: 'MoveList',
        response: { 200: 'List', ...problems(...withBody, 404, 412) },
        detail: {
          operationId: 'moveList',
          summary: 'Reorder a list',
          description: '`after_id` / `before_id` name other lists of yours (400 otherwise).',
          tags,
          security,
          responses: taggedResponse,
        },
      },
    )
}
