import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Db } from '../../db/client'
import { EMPTY_BODY } from '../../http/json-body'
import { notFound } from '../../http/problem'
import { authErrors, bodyErrors, notFoundError } from '../../http/problem-schema'
import { rejectRepeatedParams } from '../../http/query'
import type { Logger } from '../../logger'
import type { CursorCodec } from './cursor'
import {
  CompleteBody,
  CreateTaskBody,
  DEFAULT_PAGE_SIZE,
  ListQuery,
  TaskParams,
  TaskSchema,
  toTask,
  UpdateTaskBody,
  UserParams,
} from './model'
import * as service from './service'

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

  return new Elysia({ name: 'tasks', prefix: '/api/:user_id/tasks' })
    .use(auth)
    .onTransform(({ params }) => {
      const raw = (params as Record<string, string | undefined>).id
      if (raw !== undefined && !CANONICAL_ID.test(raw)) (params as Record<string, string>).id = 'not-an-id'
    })
    .get(
      '',
      async ({ userId, query, request, set }) => {
        rejectRepeatedParams(request, ['status', 'limit', 'cursor'])
        const status = query.status ?? 'all'
        const limit = query.limit ?? DEFAULT_PAGE_SIZE
        const queryKey = `status=${status}`
        const after = query.cursor === undefined ? undefined : cursors.decode(query.cursor, queryKey)
        const page = await service.listTasks(db, userId, { status, limit, after })
        const last = page.rows.at(-1)
        if (page.hasMore && last) {
          const next = new URL(request.url)
          next.searchParams.set('status', status)
          next.searchParams.set('limit', String(limit))
          next.searchParams.set('cursor', cursors.encode(queryKey, last))
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
          summary: 'List your tasks',
          description:
            'Newest first (created_at desc, then id desc). When more rows exist than `limit`, the response carries `Link: <...>; rel="next"`; follow it to get the next page.',
          tags: ['tasks'],
          security,
          'x-response-headers': { 200: ['Link'] },
        },
      },
    )
    .post(
      '',
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
      '/:id',
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
    .put('/:id', ({ userId, params, body }) => update(userId, params.id, body), updateRoute('Update a task'))
    .patch(
      '/:id',
      ({ userId, params, body }) => update(userId, params.id, body),
      updateRoute('Update a task (partial)'),
    )
    .delete(
      '/:id',
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
      '/:id/complete',
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
