import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { choice } from '../../schema/choice'
import { ListSchema } from '../lists/model'
import { MAX_TASK_ID, TaskSchema } from '../tasks/model'

export const MAX_BATCH_OPERATIONS = 100
export const OPS = ['create', 'update', 'complete', 'move', 'delete', 'restore'] as const
export type Op = (typeof OPS)[number]
export const TYPES = ['task', 'list'] as const
export type EntityType = (typeof TYPES)[number]

const TEMP_NAME = '[A-Za-z0-9_-]{1,64}'
/** `$t1`: the id a `temp_id` of an earlier create in the same batch stands for. */
export const TEMP_REFERENCE = new RegExp(`^\\$${TEMP_NAME}$`)

const realId = Type.Integer({ minimum: 1, maximum: MAX_TASK_ID, examples: [42] })
const tempReference = t.String({ pattern: TEMP_REFERENCE.source, examples: ['$t1'] })

export const BatchOperationSchema = t.Object(
  {
    op: choice(OPS, { description: 'What to do', examples: ['create'] }),
    type: choice(TYPES, { description: 'To a task or a list (`complete` takes tasks only)', examples: ['task'] }),
    id: t.Optional(
      t.Union([realId, tempReference], {
        description:
          'The task or list (every operation but create): its id, or `$` and the `temp_id` of an earlier create of this batch',
        errorMessage: 'must be an id, or $ and the temp_id of an earlier create',
        examples: [42, '$t1'],
      }),
    ),
    temp_id: t.Optional(
      t.String({
        pattern: `^${TEMP_NAME}$`,
        description:
          "A create's name for its new id within the batch (1 to 64 letters, digits, `_`, `-`): later operations write `$` and the name where an id goes, in `id` and in `data` (`list_id`, `parent_id`, `after_id`, `before_id`)",
        errorMessage: 'must be 1 to 64 letters, digits, _ or -',
        examples: ['t1'],
      }),
    ),
    version: t.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'The version you expect it to be at (what `If-Match` says on the single route): otherwise 412 `precondition_failed` with the current one, and the whole batch is undone',
        errorMessage: 'must be a version (a positive integer)',
        examples: [12],
      }),
    ),
    data: t.Optional(
      t.Object(
        {},
        {
          additionalProperties: true,
          description:
            'The body the single route takes: CreateTask, UpdateTask, CompleteTask or MoveTask for a task; CreateList, UpdateList or MoveList for a list; for a list delete `{"tasks": "delete"|"move"}` (the query of DELETE /lists/{id}). Ids in it may be `$` and a temp_id. None for a task delete; none or `{}` to toggle with complete',
          examples: [{ title: 'Buy milk', list_id: '$groceries' }],
        },
      ),
    ),
  },
  { additionalProperties: false, description: 'One change; the operations of a batch run in order' },
)
export type BatchOperation = typeof BatchOperationSchema.static

export const BatchSchema = t.Object(
  {
    operations: t.Array(BatchOperationSchema, {
      minItems: 1,
      maxItems: MAX_BATCH_OPERATIONS,
      description: `1 to ${MAX_BATCH_OPERATIONS} operations, applied in order in one transaction: all of them, or none`,
      errorMessage: `must be a list of 1 to ${MAX_BATCH_OPERATIONS} operations`,
    }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        operations: [
          { op: 'create', type: 'list', temp_id: 'groceries', data: { name: 'Groceries' } },
          { op: 'create', type: 'task', temp_id: 't1', data: { title: 'Buy milk', list_id: '$groceries' } },
          { op: 'complete', type: 'task', id: 42, version: 12, data: { completed: true } },
        ],
      },
    ],
  },
)
export type BatchInput = typeof BatchSchema.static

export const BatchResultItemSchema = t.Object(
  {
    op: choice(OPS),
    type: choice(TYPES),
    id: Type.Integer({ minimum: 1, description: 'The real id of the task or list', examples: [42] }),
    task: t.Optional(
      t.Union([TaskSchema, t.Null()], {
        description:
          'With `type: task`: the task right after this operation (as the single route answers); null after a delete',
      }),
    ),
    list: t.Optional(
      t.Union([ListSchema, t.Null()], {
        description: 'With `type: list`: the list right after this operation; null after a delete',
      }),
    ),
  },
  { description: "One operation's outcome" },
)
export type BatchResultItem = typeof BatchResultItemSchema.static

export const BatchResultSchema = t.Object(
  {
    results: t.Array(BatchResultItemSchema, { description: 'One per operation, in the same order' }),
    temp_ids: t.Record(t.String(), Type.Integer({ minimum: 1 }), {
      description: 'Each `temp_id` of the batch and the real id it became',
      examples: [{ t1: 43, groceries: 7 }],
    }),
    sync_token: t.String({
      description:
        "The change feed's token right after this batch (`GET /changes?since=`): it covers the batch and everything before it",
      examples: ['1287'],
    }),
  },
  { description: 'The batch was applied, all of it' },
)
export type BatchResult = typeof BatchResultSchema.static

export const batchModels = {
  BatchOperation: BatchOperationSchema,
  Batch: BatchSchema,
  BatchResultItem: BatchResultItemSchema,
  BatchResult: BatchResultSchema,
}
