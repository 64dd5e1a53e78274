import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { choice } from '../../schema/choice'
import { ListSchema, toList } from '../lists/model'
import { TaskSchema, toTask } from '../tasks/model'
import type { Change, ChangePage } from './service'

export const MAX_CHANGES_PAGE = 1000
export const DEFAULT_CHANGES_PAGE = 500

// A token is the user's change counter as decimal digits; clients treat it as opaque.
export const SYNC_TOKEN = /^(0|[1-9][0-9]{0,9})$/

/** A sync token in a query: `since` of the change feed and of the events stream. */
export const syncTokenParam = (description: string) =>
  t.Optional(
    t.String({
      pattern: SYNC_TOKEN.source,
      description,
      errorMessage: 'must be a sync token from an earlier answer',
      'x-param': 'since',
      examples: ['1287'],
    }),
  )

export const ChangesQuery = t.Object(
  {
    since: syncTokenParam(
      'The `next` token of an earlier answer (or an event id of the events stream). Omit it for a first sync.',
    ),
    limit: t.Optional(
      t.Integer({
        minimum: 1,
        maximum: MAX_CHANGES_PAGE,
        default: DEFAULT_CHANGES_PAGE,
        description: `Changes per answer (1 to ${MAX_CHANGES_PAGE}, default ${DEFAULT_CHANGES_PAGE})`,
        errorMessage: `must be a whole number from 1 to ${MAX_CHANGES_PAGE}`,
        'x-param': 'limit',
      }),
    ),
  },
  { additionalProperties: false },
)

const seq = Type.Integer({
  minimum: 1,
  description: 'Where this change sits in your feed: equal to the version of the task or list it carries',
  examples: [1287],
})
const id = Type.Integer({ minimum: 1, examples: [42] })

const TaskUpsert = t.Object(
  { type: t.Literal('task'), op: t.Literal('upsert'), id, seq, task: TaskSchema },
  { description: 'A task was created, changed or restored: here it is as it is now' },
)
const ListUpsert = t.Object(
  { type: t.Literal('list'), op: t.Literal('upsert'), id, seq, list: ListSchema },
  { description: 'A list was created or changed: here it is as it is now' },
)
const Tombstone = t.Object(
  {
    type: choice(['task', 'list']),
    op: t.Literal('delete'),
    id,
    seq,
    reason: choice(['deleted', 'trashed', 'purged'], {
      description:
        '`trashed`: the task went to the trash (restoring it brings an upsert); `purged`: it left the trash for good; `deleted`: a list was deleted',
    }),
  },
  { description: 'A task or list is gone: drop it' },
)

export const ChangeSchema = t.Union([TaskUpsert, ListUpsert, Tombstone])

export const ChangeFeedSchema = t.Object(
  {
    changes: t.Array(ChangeSchema, { description: 'Oldest first, each task or list at most once (its latest state)' }),
    next: t.String({
      description: 'The sync token to ask with next time (`?since=`): it covers everything in this answer',
      examples: ['1287'],
    }),
    has_more: t.Boolean({ description: 'More changes wait: ask again at once with `since=next`' }),
  },
  { description: 'A page of the change feed' },
)
export type ChangeFeed = typeof ChangeFeedSchema.static

export function toChange(change: Change): typeof ChangeSchema.static {
  if (change.deleted) return { type: change.kind, op: 'delete', id: change.id, seq: change.seq, reason: change.reason }
  if (change.kind === 'task')
    return { type: 'task', op: 'upsert', id: change.task.id, seq: change.seq, task: toTask(change.task) }
  return { type: 'list', op: 'upsert', id: change.list.id, seq: change.seq, list: toList(change.list) }
}

export const toChangeFeed = (page: ChangePage): ChangeFeed => ({
  changes: page.changes.map(toChange),
  next: String(page.next),
  has_more: page.hasMore,
})

export const syncModels = {
  Change: ChangeSchema,
  ChangeFeed: ChangeFeedSchema,
}
