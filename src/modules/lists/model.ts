import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import type { ListRow } from '../../db/schema'
import { choice } from '../../schema/choice'
import { Text } from '../../schema/text'
import { MAX_TASK_ID } from '../tasks/model'

export const MAX_LISTS = 500

const instant = t.String({ format: 'date-time', examples: ['2026-01-31T09:15:00.000Z'] })
const count = (description: string) => Type.Integer({ minimum: 0, description, examples: [3] })

export const ListSchema = t.Object({
  id: Type.Integer({ minimum: 1, examples: [7] }),
  name: t.String({ examples: ['Groceries'] }),
  color: t.Union([t.String(), t.Null()], { description: '`#rrggbb`, or null', examples: ['#3b82f6'] }),
  position: t.String({
    description: "Opaque key of the list's manual order: lists sort by it bytewise (then by id)",
    examples: ['a0'],
  }),
  is_default: t.Boolean({ description: 'The Inbox: tasks created without `list_id` go here', examples: [false] }),
  open_count: count('Open tasks in the list, subtasks included'),
  completed_count: count('Completed tasks in the list, subtasks included'),
  created_at: instant,
  updated_at: instant,
  version: Type.Integer({
    minimum: 1,
    description: 'Grows with every change of the list (its counts included); the `ETag` carries it',
    examples: [12],
  }),
})
export type List = typeof ListSchema.static

const name = Text({
  minLength: 1,
  maxLength: 100,
  trim: true,
  description: 'Trimmed, in Unicode normal form C; 1 to 100 characters; unique among your lists whatever the case',
  errorMessage: 'must be 1 to 100 characters and not blank',
  examples: ['Groceries'],
})
const color = t.Union([t.String({ pattern: '^#[0-9a-fA-F]{6}$' }), t.Null()], {
  description: '`#rrggbb` (stored lower-cased), or null for none',
  errorMessage: 'must be a colour as #rrggbb, or null',
  examples: ['#3b82f6'],
})

export const CreateListBody = t.Object(
  { name, color: t.Optional(color) },
  { additionalProperties: false, examples: [{ name: 'Groceries', color: '#3b82f6' }] },
)
export type CreateListInput = typeof CreateListBody.static

export const UpdateListBody = t.Object(
  { name: t.Optional(name), color: t.Optional(color) },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Any non-empty subset of the writable fields',
    examples: [{ name: 'Shopping' }],
  },
)
export type UpdateListInput = typeof UpdateListBody.static

const siblingId = (description: string) =>
  Type.Integer({ minimum: 1, maximum: MAX_TASK_ID, description, errorMessage: 'must be an id', examples: [3] })

export const MoveListBody = t.Object(
  {
    after_id: t.Optional(siblingId('Put the list right after this one of your lists')),
    before_id: t.Optional(siblingId('Put the list right before this one of your lists')),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: '`after_id`, `before_id`, or both (then they must be neighbours, in that order)',
    examples: [{ after_id: 3 }],
  },
)
export type MoveListInput = typeof MoveListBody.static

export const DeleteListQuery = t.Object(
  {
    tasks: t.Optional(
      choice(['delete', 'move'], {
        description:
          'What to do with the tasks of a list that has some: `delete` them (to the trash, like DELETE of each; restored, they go to the default list), or `move` them (with their subtasks) to the end of the default list. Without it, such a list is not deleted (409 `list_not_empty`)',
      }),
    ),
  },
  { additionalProperties: false },
)

const pathUser = t.String({ description: "The token's subject (user id), or `me` for it", examples: ['me'] })
export const ListParams = t.Object({
  user_id: pathUser,
  list_id: t.Integer({ minimum: 1, maximum: MAX_TASK_ID, description: 'List id', examples: [7], 'x-param': 'list_id' }),
})

export function toList(row: ListRow): List {
  return {
    id: row.id,
    name: row.name,
    color: row.color,
    position: row.position,
    is_default: row.isDefault,
    open_count: row.openCount,
    completed_count: row.completedCount,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    version: row.version,
  }
}

export const listModels = {
  List: ListSchema,
  ListList: t.Array(ListSchema, { description: 'Your lists in their manual order' }),
  CreateList: CreateListBody,
  UpdateList: UpdateListBody,
  MoveList: MoveListBody,
}
