import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { PROBLEM_CODES } from '../http/problem'
import { ListSchema } from '../modules/lists/model'
import { TaskSchema } from '../modules/tasks/model'
import { choice } from './choice'

/** The one error shape of the API (RFC 9457), sent as `application/problem+json`. */
export const Problem = t.Object(
  {
    type: t.String({ description: 'A URN naming the kind of problem', examples: ['urn:todo-api:problem:not_found'] }),
    title: t.String({ description: 'A short summary of the kind of problem', examples: ['Not found'] }),
    status: Type.Integer({ minimum: 400, maximum: 599, description: 'The HTTP status', examples: [404] }),
    detail: t.String({
      description: 'A sentence for people: frontends can show it as it is',
      examples: ['No task with that id.'],
    }),
    code: choice(PROBLEM_CODES, { description: 'Stable machine-readable code', examples: ['not_found'] }),
    errors: t.Optional(
      t.Array(
        t.Object({
          field: t.String({ description: 'The field or parameter, as the client named it', examples: ['title'] }),
          message: t.String({ examples: ['is required'] }),
        }),
        { description: 'One entry per invalid field (validation problems only)' },
      ),
    ),
    task_count: t.Optional(
      Type.Integer({ minimum: 1, description: 'With `list_not_empty`: how many tasks the list holds', examples: [3] }),
    ),
    current: t.Optional(
      t.Union([TaskSchema, ListSchema], {
        description:
          'With `precondition_failed`: the task or list as it is now (its `ETag` is the header of this answer)',
      }),
    ),
  },
  { description: 'RFC 9457 problem details (Content-Type: application/problem+json)' },
)

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 412 | 413 | 415 | 422 | 429 | 503

/** Response entries for the error statuses a route can answer, each a Problem. */
export function problems<const S extends ErrorStatus>(...statuses: S[]): { [K in S]: 'Problem' } {
  return Object.fromEntries(statuses.map((status) => [status, 'Problem'])) as { [K in S]: 'Problem' }
}

/** A 204: nothing in the body. */
export const NoContent = t.Void()
