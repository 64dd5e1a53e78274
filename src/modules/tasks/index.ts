import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Db } from '../../db/client'
import { EMPTY_BODY } from '../../http/json-body'
import { notFound } from '../../http/problem'
import { authErrors, bodyErrors, notFoundError } from '../../http/problem-schema'
import type { Logger } from '../../logger'
import type { CursorCodec } from './cursor'
import { readListQuery } from './list-query'
import {
  CompleteBody,
  CreateTaskBody,
  ListQuery,
  NoQuery,
  StatsQuery,
  StatsSchema,
  TagCountSchema,
  TaskParams,
  TaskSchema,
  toTask,
  UpdateTaskBody,
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

// Elysia's number coercion also reads 0x1, 1e0, +1, 1.0 and 01 as 1; only a plain decimal id
// names a task. Swapping the value for one that fails validation gives the 404 there, after
// the auth check has had its say (transforms run before validation).
const CANONICAL_ID = /^[1-9]\d{0,9}$/
const security = [{ bearer: [] }]

export const tasksModule = ({ db, auth, cursors, logger }: TasksDeps) => {
  const update = async (userId: string, id: number, body: typeof UpdateTaskBody.static) => {
    const row = await service.updateTask(db, userId, id, body)
    if (!row) throw noTask()
    logger.info('task updated', { user_id: userId, task_id: id })
    return toTask(row)
  }
  const updateRoute = (summary: string) => ({
    auth: true as const,
    params: TaskParams,
    parse: 'json' as const,
    body: UpdateTaskBody,
    response: { 200: TaskSchema, ...bodyErrors, ...authErrors, ...notFoundError },
    detail: { summary, tags: ['tasks'], security },
  })

  return new Elysia({ name: 'tasks', prefix: '/api/:user_id' })
    .use(auth)
    .onTransform(({ params }) => {
      const raw = (params as Record<string, string | undefined>).id
      if (raw !== undefined && !CANONICAL_ID.test(raw)) (params as Record<string, string>).id = 'not-an-id'
    })
    .get(
      '/tasks',
      async ({ userId, query, request, set }) => {
        const list = readListQuery(request, query)
        const after = query.cursor === undefined ? undefined : cursors.decode(query.cursor, list.key)
        const page = await service.listTasks(db, userId, { ...list, after })
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
        response: { 200: t.Array(TaskSchema), 400: bodyErrors[400], ...authErrors },
        detail: {
          summary: 'List, filter, search and sort your tasks',
          description:
            'Newest first unless `sort` says otherwise; every filter is optional and they combine with AND. When more rows exist than `limit`, the response carries `Link: <...>; rel="next"`: follow it for the next page (its cursor only works with the same filters and sort). Unknown parameters are a 400.',
          tags: ['tasks'],
          security,
          'x-response-headers': { 200: ['Link'] },
        },
      },
    )
    .get('/tasks/stats', ({ userId, query }) => taskStats(db, userId, query.tz ?? 'UTC'), {
      auth: true,
      params: UserParams,
      query: StatsQuery,
      response: { 200: StatsSchema, 400: bodyErrors[400], ...authErrors },
      detail: {
        summary: 'Counts of your tasks',
        description: '`tz` decides which calendar day is today for `overdue` and `due_today` (default UTC).',
        tags: ['tasks'],
        security,
      },
    })
    .get('/tags', ({ userId }) => tagCounts(db, userId), {
      auth: true,
      params: UserParams,
      query: NoQuery,
      response: { 200: t.Array(TagCountSchema), 400: bodyErrors[400], ...authErrors },
      detail: {
        summary: 'Your tags, with how many tasks carry each',
        description: 'Most used first, then alphabetically. Tags that differ only in case are one tag.',
        tags: ['tasks'],
        security,
      },
    })
    .post(
      '/tasks',
      async ({ userId, body, params, set, status }) => {
        const row = await service.createTask(db, userId, body)
        logger.info('task created', { user_id: userId, task_id: row.id })
        set.headers.location = `/api/${encodeURIComponent(params.user_id)}/tasks/${row.id}`
        return status(201, toTask(row))
      },
      {
        auth: true,
        params: UserParams,
        parse: 'json',
        body: CreateTaskBody,
        response: { 201: TaskSchema, ...bodyErrors, ...authErrors },
        detail: { summary: 'Create a task', tags: ['tasks'], security, 'x-response-headers': { 201: ['Location'] } },
      },
    )
    .get(
      '/tasks/:id',
      async ({ userId, params }) => {
        const row = await service.getTask(db, userId, params.id)
        if (!row) throw noTask()
        return toTask(row)
      },
      {
        auth: true,
        params: TaskParams,
        response: { 200: TaskSchema, ...authErrors, ...notFoundError },
        detail: { summary: 'Get one task', tags: ['tasks'], security },
      },
    )
    .put('/tasks/:id', ({ userId, params, body }) => update(userId, params.id, body), updateRoute('Update a task'))
    .patch(
      '/tasks/:id',
      ({ userId, params, body }) => update(userId, params.id, body),
      updateRoute('Update a task (partial)'),
    )
    .delete(
      '/tasks/:id',
      async ({ userId, params, status }) => {
        if (!(await service.deleteTask(db, userId, params.id))) throw noTask()
        logger.info('task deleted', { user_id: userId, task_id: params.id })
        return status(204, undefined)
      },
      {
        auth: true,
        params: TaskParams,
        response: { 204: t.Void({ description: 'Deleted' }), ...authErrors, ...notFoundError },
        detail: { summary: 'Delete a task', tags: ['tasks'], security },
      },
    )
    .patch(
      '/tasks/:id/complete',
      async ({ userId, params, body }) => {
        const row = await service.setCompleted(db, userId, params.id, body?.completed)
        if (!row) throw noTask()
        logger.info('task updated', { user_id: userId, task_id: params.id })
        return toTask(row)
      },
      {
        auth: true,
        params: TaskParams,
        transform(context) {
          if ((context.body as unknown) === EMPTY_BODY) context.body = {}
        },
        parse: 'json',
        body: CompleteBody,
        response: { 200: TaskSchema, ...bodyErrors, ...authErrors, ...notFoundError },
        detail: {
          summary: 'Complete, reopen or toggle a task',
          description: 'With `{"completed": true|false}` it sets that value; with no body or `{}` it toggles.',
          tags: ['tasks'],
          security,
          'x-optional-body': true,
        },
      },
    )
}
