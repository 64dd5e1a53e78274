import { type Context, Elysia } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Db } from '../../db/client'
import { etagOf, ifMatchVersions, noneMatchHits } from '../../http/conditional'
import { EMPTY_BODY } from '../../http/json-body'
import { notFound } from '../../http/problem'
import { rejectRepeatedParams, rejectUndecodableParams, requirePlainDecimals } from '../../http/query'
import { requestLogger } from '../../http/request-context'
import type { Logger } from '../../logger'
import { IfMatch, IfNoneMatch, notModified } from '../../schema/conditional'
import { header } from '../../schema/headers'
import { models } from '../../schema/models'
import { NoContent, problems } from '../../schema/problem'
import { listCompletions } from './completions'
import type { CursorCodec } from './cursor'
import { readListQuery } from './list-query'
import {
  CompletionsQuery,
  DEFAULT_PAGE_SIZE,
  ListQuery,
  NoQuery,
  namesARow,
  StatsQuery,
  TaskParams,
  type TaskRecord,
  toTask,
  type UpdateTaskInput,
  UserParams,
} from './model'
import * as service from './service'
import { tagCounts, taskStats } from './stats'

export interface TasksDeps {
  db: Db
  auth: AuthPlugin
  cursors: CursorCodec
  logger: Logger
}

const noTask = () => notFound('No task with that id.')

/** The task's public shape, its version in `ETag`. */
const tagged = (set: Context['set'], row: TaskRecord) => {
  set.headers.etag = etagOf(row.version)
  return toTask(row)
}
const taggedResponse = { 200: { description: 'The task', headers: { ETag: header('The task\'s version, `"12"`') } } }

// An id that names no task (see `namesARow`) is swapped for one that fails validation: the 404
// comes there, after the auth check has had its say (transforms run before validation).
// A page size or a list id in the query is a plain decimal too (a repeat is refused by name later).
const PLAIN_DECIMAL_PARAMS = ['limit', 'list_id']
const security = [{ bearer: [] }]
const tags = ['tasks']

// What each kind of route can answer besides its success: the auth check (401, 429 from the
// per-user limit, 503 when the database or the token issuer is down), a path naming another
// user (403), a task id that names no task of the caller (404), and body or query problems.
const authenticated = [401, 403, 429, 503] as const
const withQuery = [400, ...authenticated] as const
const withBody = [400, 413, 415, ...authenticated] as const

/** The task list's tag: the user's change counter, and which page of which query. */
const listTag = (search: string, seq: number) => etagOf(`${seq}-${Bun.hash(search).toString(36)}`)

export const tasksModule = ({ db, auth, cursors, logger }: TasksDeps) => {
  const update = async (request: Request, set: Context['set'], userId: string, id: number, body: UpdateTaskInput) => {
    const row = await service.updateTask(db, userId, id, body, ifMatchVersions(request))
    if (!row) throw noTask()
    requestLogger(logger, request).info('task updated', { user_id: userId, task_id: id })
    return tagged(set, row)
  }
  const updateRoute = (operationId: string, summary: string) => ({
    auth: true as const,
    params: TaskParams,
    headers: IfMatch,
    parse: 'json' as const,
    body: 'UpdateTask' as const,
    response: { 200: 'Task' as const, ...problems(...withBody, 404, 412) },
    detail: { operationId, summary, tags, security, responses: taggedResponse },
  })
  // Query strings are only read where a route has parameters.
  const decodableQuery = ({ request }: { request: Request }) => rejectUndecodableParams(request)
  // As on the list: `?tz=UTC&tz=UTC` or a repeated `list_id` is ambiguous, not guessed.
  const singleParams = ({ request }: { request: Request }) => rejectRepeatedParams(request, ['tz', 'list_id'])

  return new Elysia({ name: 'tasks', prefix: '/api/:user_id' })
    .use(models)
    .use(auth)
    .onTransform(({ params, query }) => {
      const raw = (params as Record<string, string | undefined>).id
      if (raw !== undefined && !namesARow(raw)) (params as Record<string, string>).id = 'not-an-id'
      requirePlainDecimals(query as Record<string, unknown>, PLAIN_DECIMAL_PARAMS)
    })
    .get(
      '/tasks',
      async ({ userId, query, request, set, status }) => {
        const list = readListQuery(request, query)
        const after = query.cursor === undefined ? undefined : cursors.decode(query.cursor, list.key)
        // The page depends on the user's data and the query, except `overdue`, which also
        // depends on the clock: that one carries no tag.
        const options = { ...list, after }
        let page: service.TaskPage
        if (query.overdue === undefined) {
          const tagged = await service.listTasksTagged(db, userId, options)
          const etag = listTag(new URL(request.url).search, tagged.counter)
          set.headers.etag = etag
          if (noneMatchHits(request, etag)) return status(304, undefined)
          page = tagged
        } else page = await service.listTasks(db, userId, options)
        if (page.next) {
          const next = new URL(request.url)
          next.searchParams.set('limit', String(list.limit))
          next.searchParams.set('cursor', cursors.encode(list.key, page.next))
          set.headers.link = `<${next.pathname}${next.search}>; rel="next"`
        }
        return page.rows.map(toTask)
      },
      {
        auth: true,
        params: UserParams,
        query: ListQuery,
        // After the auth check (a transform) and validation, so it reveals nothing to a
        // caller without a valid token.
        beforeHandle: decodableQuery,
        headers: IfNoneMatch,
        response: { 200: 'TaskList', ...notModified, ...problems(...withQuery) },
        detail: {
          operationId: 'listTasks',
          summary: 'List, filter, search and sort your tasks',
          description:
            'Newest first unless `sort` says otherwise; every filter is optional and they combine with AND. When more rows exist than `limit`, the response carries `Link: <...>; rel="next"`: follow it for the next page (its cursor only works with the same filters and sort). Unknown parameters are a 400.',
          tags,
          security,
          responses: {
            200: {
              description: 'A page of tasks',
              headers: {
                Link: header('`<url>; rel="next"` while more tasks match: the next page'),
                ETag: header('Changes whenever any of your tasks or lists change (absent with `overdue`)'),
              },
            },
            304: { description: 'Nothing of yours changed since the `ETag` you sent' },
          },
        },
      },
    )
    .get('/tasks/stats', ({ userId, query }) => taskStats(db, userId, query.tz ?? 'UTC', query.list_id), {
      auth: true,
      params: UserParams,
      query: StatsQuery,
      beforeHandle: [decodableQuery, singleParams],
      response: { 200: 'Stats', ...problems(...withQuery) },
      detail: {
        operationId: 'taskStats',
        summary: 'Counts of your tasks',
        description:
          '`tz` decides which calendar day is today for `overdue` and `due_today` (default UTC); `list_id` counts one list only.',
        tags,
        security,
      },
    })
    .get('/tags', ({ userId }) => tagCounts(db, userId), {
      auth: true,
      params: UserParams,
      query: NoQuery,
      beforeHandle: decodableQuery,
      response: { 200: 'TagCountList', ...problems(...withQuery) },
      detail: {
        operationId: 'listTags',
        summary: 'Your tags, with how many tasks carry each',
        description: 'Most used first, then alphabetically. Tags that differ only in case are one tag.',
        tags,
        security,
      },
    })
    .post(
      '/tasks',
      async ({ userId, body, params, request, set, status }) => {
        const row = await service.createTask(db, userId, body)
        requestLogger(logger, request).info('task created', { user_id: userId, task_id: row.id })
        set.headers.location = `/api/${encodeURIComponent(params.user_id)}/tasks/${row.id}`
        return status(201, tagged(set, row))
      },
      {
        auth: true,
        params: UserParams,
        parse: 'json',
        body: 'CreateTask',
        response: { 201: 'Task', ...problems(...withBody) },
        detail: {
          operationId: 'createTask',
          summary: 'Create a task',
          tags,
          security,
          responses: {
            201: {
              description: 'Created',
              headers: { Location: header('Path of the new task'), ETag: header('Its version, `"12"`') },
            },
          },
        },
      },
    )
    .get(
      '/tasks/:id',
      async ({ userId, params, request, set, status }) => {
        const row = await service.getTask(db, userId, params.id)
        if (!row) throw noTask()
        const task = tagged(set, row)
        if (noneMatchHits(request, etagOf(row.version))) return status(304, undefined)
        return task
      },
      {
        auth: true,
        params: TaskParams,
        headers: IfNoneMatch,
        response: { 200: 'Task', ...notModified, ...problems(...authenticated, 404) },
        detail: {
          operationId: 'getTask',
          summary: 'Get one task',
          tags,
          security,
          responses: { ...taggedResponse, 304: { description: 'Unchanged since the `ETag` you sent' } },
        },
      },
    )
    .put(
      '/tasks/:id',
      ({ userId, params, body, request, set }) => update(request, set, userId, params.id, body),
      updateRoute('replaceTask', 'Update a task'),
    )
    .patch(
      '/tasks/:id',
      ({ userId, params, body, request, set }) => update(request, set, userId, params.id, body),
      updateRoute('updateTask', 'Update a task (partial)'),
    )
    .delete(
      '/tasks/:id',
      async ({ userId, params, request, status }) => {
        if (!(await service.deleteTask(db, userId, params.id, ifMatchVersions(request)))) throw noTask()
        requestLogger(logger, request).info('task deleted', { user_id: userId, task_id: params.id })
        return status(204, undefined)
      },
      {
        auth: true,
        params: TaskParams,
        headers: IfMatch,
        response: { 204: NoContent, ...problems(...authenticated, 404, 412) },
        detail: {
          operationId: 'deleteTask',
          summary: 'Delete a task',
          description:
            'It goes to the trash with its subtasks (see `GET /api/{user_id}/trash`): a 404 on every task route until restored.',
          tags,
          security,
          responses: { 204: { description: 'Moved to the trash' } },
        },
      },
    )
    .post(
      '/tasks/:id/move',
      async ({ userId, params, body, request, set }) => {
        const row = await service.moveTask(
          db,
          userId,
          params.id,
          { list_id: body.list_id, parent_id: body.parent_id },
          { afterId: body.after_id, beforeId: body.before_id },
          ifMatchVersions(request),
        )
        if (!row) throw noTask()
        requestLogger(logger, request).info('task moved', { user_id: userId, task_id: params.id })
        return tagged(set, row)
      },
      {
        auth: true,
        params: TaskParams,
        headers: IfMatch,
        parse: 'json',
        body: 'MoveTask',
        response: { 200: 'Task', ...problems(...withBody, 404, 412) },
        detail: {
          operationId: 'moveTask',
          summary: 'Move a task (with its subtasks) to another list, parent or place',
          description:
            '`after_id` / `before_id` must be siblings at the destination (same list and parent); a parent must be yours, in the destination list, not the task itself or one of its subtasks, and at most 4 levels below a top-level task (400 otherwise).',
          tags,
          security,
          responses: taggedResponse,
        },
      },
    )
    .get(
      '/tasks/:id/completions',
      async ({ userId, params, query, request, set }) => {
        if (!(await service.getTask(db, userId, params.id))) throw noTask()
        const limit = query.limit ?? DEFAULT_PAGE_SIZE
        // A cursor belongs to one task's completions.
        const cursorQuery = `completions ${params.id}`
        const after = query.cursor === undefined ? undefined : cursors.decode(query.cursor, cursorQuery)
        const page = await listCompletions(db, userId, params.id, limit, after)
        if (page.next) {
          const next = new URL(request.url)
          next.searchParams.set('limit', String(limit))
          next.searchParams.set('cursor', cursors.encode(cursorQuery, page.next))
          set.headers.link = `<${next.pathname}${next.search}>; rel="next"`
        }
        return page.items
      },
      {
        auth: true,
        params: TaskParams,
        query: CompletionsQuery,
        beforeHandle: decodableQuery,
        response: { 200: 'CompletionList', ...problems(...withQuery, 404) },
        detail: {
          operationId: 'listTaskCompletions',
          summary: 'When a recurring task was completed',
          description:
            'Each completion of the task while it repeated (which occurrence, when, and where its due date went), newest first. A one-off task has none. When more exist than `limit`, the response carries `Link: <...>; rel="next"`.',
          tags,
          security,
          responses: {
            200: {
              description: 'A page of completions',
              headers: { Link: header('`<url>; rel="next"` while more completions exist: the next page') },
            },
          },
        },
      },
    )
    .patch(
      '/tasks/:id/complete',
      async ({ userId, params, body, request, set }) => {
        const row = await service.setCompleted(db, userId, params.id, body?.completed, ifMatchVersions(request))
        if (!row) throw noTask()
        requestLogger(logger, request).info('task updated', { user_id: userId, task_id: params.id })
        return tagged(set, row)
      },
      {
        auth: true,
        params: TaskParams,
        headers: IfMatch,
        transform(context) {
          if ((context.body as unknown) === EMPTY_BODY) context.body = {}
        },
        parse: 'json',
        body: 'CompleteTask',
        response: { 200: 'Task', ...problems(...withBody, 404, 412) },
        detail: {
          operationId: 'completeTask',
          summary: 'Complete, reopen or toggle a task',
          description:
            'With `{"completed": true|false}` it sets that value; with no body or `{}` it toggles. Completing a recurring task moves its due date to the next occurrence and keeps it open (its subtasks reopen, the completion is listed under `/completions`); when `COUNT` or `UNTIL` is used up it is completed for good.',
          tags,
          security,
          responses: taggedResponse,
        },
      },
    )
}
