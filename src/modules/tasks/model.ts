import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import type { TaskRow } from '../../db/schema'
import { Text } from '../../http/text'

export const MAX_PAGE_SIZE = 500
export const DEFAULT_PAGE_SIZE = 100

export const TaskSchema = t.Object({
  // TypeBox's own Integer: Elysia's `t.Integer` also accepts numeric strings, which the
  // OpenAPI document would then advertise for an output field.
  id: Type.Integer({ minimum: 1, examples: [42] }),
  user_id: t.String({ examples: ['0193b2c4-7d1e-7c4a-9f00-5b2a1c3d4e5f'] }),
  title: t.String({ examples: ['Buy milk'] }),
  description: t.Union([t.String(), t.Null()], { examples: ['Two litres, semi-skimmed'] }),
  completed: t.Boolean({ examples: [false] }),
  created_at: t.String({ format: 'date-time', examples: ['2026-01-31T09:15:00.000Z'] }),
  updated_at: t.String({ format: 'date-time', examples: ['2026-01-31T09:15:00.000Z'] }),
})
export type Task = typeof TaskSchema.static

const title = Text({
  minLength: 1,
  maxLength: 255,
  trim: true,
  description: 'Trimmed; 1 to 255 characters (code points) after trimming',
  errorMessage: 'must be 1 to 255 characters and not blank',
  examples: ['Buy milk'],
})
const description = t.Union([Text({ maxLength: 1000 }), t.Null()], {
  description: 'Up to 1000 characters, or null',
  errorMessage: 'must be null or a string of at most 1000 characters',
  examples: ['Two litres, semi-skimmed'],
})
const completed = t.Boolean({ errorMessage: 'must be true or false' })

export const CreateTaskBody = t.Object(
  { title, description: t.Optional(description), completed: t.Optional(completed) },
  { additionalProperties: false, examples: [{ title: 'Buy milk', description: 'Two litres, semi-skimmed' }] },
)
export type CreateTaskInput = typeof CreateTaskBody.static

export const UpdateTaskBody = t.Object(
  { title: t.Optional(title), description: t.Optional(description), completed: t.Optional(completed) },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Any non-empty subset of the writable fields',
    examples: [{ title: 'Buy oat milk', completed: true }],
  },
)
export type UpdateTaskInput = typeof UpdateTaskBody.static

/** No body at all is allowed too: the route turns it into `{}` before validation. */
export const CompleteBody = t.Object(
  { completed: t.Optional(completed) },
  {
    additionalProperties: false,
    description: 'With `completed` it sets that value; with no body or `{}` it toggles',
    examples: [{ completed: true }],
  },
)

export const UserParams = t.Object({ user_id: t.String({ description: "The token's subject (user id)" }) })
export const TaskParams = t.Object({
  user_id: t.String({ description: "The token's subject (user id)" }),
  id: t.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Task id', examples: [42], 'x-param': 'id' }),
})

export const TaskStatus = t.UnionEnum(['all', 'pending', 'completed'], {
  default: 'all',
  description: 'Which tasks to list',
  errorMessage: 'must be one of all, pending, completed',
})
export type TaskStatus = typeof TaskStatus.static

export const ListQuery = t.Object(
  {
    status: t.Optional(TaskStatus),
    limit: t.Optional(
      t.Integer({
        minimum: 1,
        maximum: MAX_PAGE_SIZE,
        default: DEFAULT_PAGE_SIZE,
        description: `Page size, 1 to ${MAX_PAGE_SIZE}`,
        errorMessage: `must be a whole number from 1 to ${MAX_PAGE_SIZE}`,
        'x-param': 'limit',
      }),
    ),
    cursor: t.Optional(
      t.String({
        maxLength: 1024,
        description: 'Opaque position from the previous page\'s Link rel="next" header',
        errorMessage: 'is not a valid cursor',
      }),
    ),
  },
  { additionalProperties: false },
)

/** The one place a row becomes the public shape: new columns stay private until named here. */
export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    user_id: row.userId,
    title: row.title,
    description: row.description,
    completed: row.completed,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  }
}
