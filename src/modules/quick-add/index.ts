import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Db } from '../../db/client'
import { etagOf } from '../../http/conditional'
import { rejectRepeatedParams, rejectUndecodableParams } from '../../http/query'
import { requestLogger } from '../../http/request-context'
import type { Logger } from '../../logger'
import { header } from '../../schema/headers'
import { models } from '../../schema/models'
import { problems } from '../../schema/problem'
import { toTask, UserParams } from '../tasks/model'
import { QuickAddQuery } from './model'
import { createFromText, draftOf, readText } from './service'

export interface QuickAddDeps {
  db: Db
  auth: AuthPlugin
  logger: Logger
  /** The clock the text's "today", "tomorrow" and "at 9am" are read by. */
  now: () => Date
}

const authenticated = [401, 403, 429, 503] as const

/**
 * `POST /api/{user_id}/tasks/quick`: a task from one line of text. Its own path segment
 * (`quick`) is never read as a task id: no `/tasks/:id` route takes POST, and the other
 * methods of `/tasks/quick` reach `/tasks/:id`, where `quick` names no task (404).
 */
export const quickAddModule = ({ db, auth, logger, now }: QuickAddDeps) =>
  new Elysia({ name: 'quick-add', prefix: '/api/:user_id' })
    .use(models)
    .use(auth)
    .post(
      '/tasks/quick',
      async ({ userId, body, query, params, request, set, status }) => {
        const { parsed, defaultList } = await readText(db, userId, body.text, body.tz ?? 'UTC', now())
        if (query.dry_run) return status(200, { task: draftOf(parsed, defaultList as number), spans: parsed.spans })
        const row = await createFromText(db, userId, parsed)
        requestLogger(logger, request).info('task created', { user_id: userId, task_id: row.id })
        set.headers.location = `/api/${encodeURIComponent(params.user_id)}/tasks/${row.id}`
        set.headers.etag = etagOf(row.version)
        return status(201, { task: toTask(row), spans: parsed.spans })
      },
      {
        auth: true,
        params: UserParams,
        query: QuickAddQuery,
        beforeHandle: ({ request }) => {
          rejectUndecodableParams(request)
          rejectRepeatedParams(request, ['dry_run'])
        },
        parse: 'json',
        body: 'QuickAdd',
        response: { 200: 'QuickAddPreview', 201: 'QuickAddCreated', ...problems(400, 413, 415, ...authenticated) },
        detail: {
          operationId: 'quickAddTask',
          summary: 'Create a task from a line of text',
          description:
            'Reads English text such as "Pay rent every month on the 1st at 9am #home !high": `#tags`, a priority (`!high`, `!1`), an `@list` you have (the longest of your list names that follows the `@`, in any case), a date or time, and a recurrence become fields; the rest is the title. The answer shows which part of the text became which field (`spans`). With `dry_run=true` nothing is created (200). A text that leaves no title, more than 20 tags, or a rule the API cannot keep is a 400 naming `text`.',
          tags: ['tasks'],
          security: [{ bearer: [] }],
          responses: {
            200: { description: 'With `dry_run=true`: what would be created; nothing was' },
            201: {
              description: 'Created',
              headers: { Location: header('Path of the new task'), ETag: header('Its version, `"12"`') },
            },
          },
        },
      },
    )
