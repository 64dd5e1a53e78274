import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Db } from '../../db/client'
import { nextPageLink } from '../../http/page-link'
import { notFound, ProblemError } from '../../http/problem'
import { rejectRepeatedParams, rejectUndecodableParams } from '../../http/query'
import { requestLogger } from '../../http/request-context'
import type { Logger } from '../../logger'
import { header } from '../../schema/headers'
import { models } from '../../schema/models'
import { problems } from '../../schema/problem'
import type { CursorCodec } from '../tasks/cursor'
import { DEFAULT_PAGE_SIZE, plainIdAndLimit, UserParams } from '../tasks/model'
import { ReminderParams, RemindersQuery } from './model'
import * as service from './service'

export interface RemindersDeps {
  db: Db
  auth: AuthPlugin
  cursors: CursorCodec
  logger: Logger
}

const security = [{ bearer: [] }]
const tags = ['reminders']
const authenticated = [401, 403, 429, 503] as const

const LIST_DESCRIPTION =
  'A reminder fires at its time (within about 2 seconds): it goes out as `event: reminder` on your event stream (`GET /api/{user_id}/events`, data: one Reminder) and is listed under `state=due` until acknowledged. Each fires once, whichever server instance fires it; one that came due while the service was down fires when it starts again, with `late: true`. Reminders of completed tasks do not fire, nor those of tasks in the trash (they are not listed either). When more exist than `limit`, the response carries `Link: <...>; rel="next"`.'

export const remindersModule = ({ db, auth, cursors, logger }: RemindersDeps) =>
  new Elysia({ name: 'reminders', prefix: '/api/:user_id' })
    .use(models)
    .use(auth)
    // As on the task routes: only a plain decimal id in range names a reminder.
    .onTransform(plainIdAndLimit)
    .get(
      '/reminders',
      async ({ userId, query, request, set }) => {
        const state = query.state ?? 'due'
        const limit = query.limit ?? DEFAULT_PAGE_SIZE
        // A cursor belongs to one state's order.
        const cursorQuery = `reminders ${state}`
        const after = query.cursor === undefined ? undefined : cursors.decode(query.cursor, cursorQuery)
        const page = await service.listReminders(db, userId, state, limit, after)
        if (page.next) set.headers.link = nextPageLink(request, limit, cursors.encode(cursorQuery, page.next))
        return page.items
      },
      {
        auth: true,
        params: UserParams,
        query: RemindersQuery,
        beforeHandle: ({ request }) => {
          rejectUndecodableParams(request)
          rejectRepeatedParams(request, ['state', 'limit', 'cursor'])
        },
        response: { 200: 'ReminderList', ...problems(400, ...authenticated) },
        detail: {
          operationId: 'listReminders',
          summary: 'Your reminders that fired and wait to be acknowledged (or pending, or all)',
          description: LIST_DESCRIPTION,
          tags,
          security,
          responses: {
            200: {
              description: 'A page of reminders',
              headers: { Link: header('`<url>; rel="next"` while more reminders exist: the next page') },
            },
          },
        },
      },
    )
    .post(
      '/reminders/:id/ack',
      async ({ userId, params, request }) => {
        const row = await service.acknowledgeReminder(db, userId, params.id)
        if (row === undefined) throw notFound('No reminder with that id.')
        if (row === 'not fired')
          throw new ProblemError(
            409,
            'conflict',
            'That reminder has not fired yet: only a reminder that fired can be acknowledged.',
          )
        requestLogger(logger, request).info('reminder acknowledged', { user_id: userId, reminder_id: params.id })
        return service.toReminder(row)
      },
      {
        auth: true,
        params: ReminderParams,
        response: { 200: 'Reminder', ...problems(...authenticated, 404, 409) },
        detail: {
          operationId: 'acknowledgeReminder',
          summary: 'Acknowledge a reminder that fired',
          description:
            'It leaves `state=due`. Acknowledging again changes nothing (`acknowledged_at` stays the first time). 409 when it has not fired yet; 404 when it is not one of your reminders, or its task is in the trash. A reminder that fires again (its task moved on to a next occurrence, or got a new due time) is due again.',
          tags,
          security,
          responses: { 200: { description: 'The reminder, acknowledged' } },
        },
      },
    )
