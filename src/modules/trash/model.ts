import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { instantFromText } from '../../db/timestamps'
import { Text } from '../../schema/text'
import type { TaskReminder } from '../reminders/model'
import { pageSize, type Task, type TaskRecord, TaskSchema, toTask } from '../tasks/model'

export const TrashedTaskSchema = t.Object(
  {
    ...TaskSchema.properties,
    deleted_at: t.String({
      format: 'date-time',
      description: 'When it was moved to the trash',
      examples: ['2026-01-31T09:15:00.000Z'],
    }),
    subtask_total: Type.Integer({
      minimum: 0,
      description: 'Subtasks at every level that went to the trash with it (and come back with it)',
      examples: [2],
    }),
  },
  { description: 'A task in the trash, as it was when deleted' },
)
export type TrashedTask = typeof TrashedTaskSchema.static

export const TrashQuery = t.Object(
  {
    limit: pageSize,
    cursor: t.Optional(
      Text({
        maxLength: 2048,
        description: 'Opaque position from the previous page\'s Link rel="next" header',
        errorMessage: 'is not a valid cursor',
      }),
    ),
  },
  { additionalProperties: false },
)

/**
 * A task row as the trash keeps it: Postgres's `to_jsonb` of the row, so snake_case keys and
 * timestamps as text (with an offset).
 */
export interface StoredTask {
  id: number
  user_id: string
  title: string
  description: string | null
  completed: boolean
  created_at: string
  updated_at: string
  priority: TaskRecord['priority']
  tags: string[]
  tag_keys: string[]
  due_date: string | null
  due_at: string | null
  completed_at: string | null
  list_id: number
  parent_id: number | null
  position: string
  outline: string
  subtask_count: number
  completed_subtask_count: number
  version: number
  recurrence: TaskRecord['recurrence']
}

// As to_jsonb wrote it, in the session's time zone: an old local mean time has an offset with
// seconds ("-04:56:02"), which `new Date` cannot read.
const instant = (value: string) => instantFromText(value)

/** The task as it was, in the public shape, with its reminders as they are. */
export function storedToTask(row: StoredTask, reminders: TaskReminder[]): Task {
  return toTask({
    id: row.id,
    userId: row.user_id,
    title: row.title,
    description: row.description,
    completed: row.completed,
    createdAt: instant(row.created_at),
    updatedAt: instant(row.updated_at),
    priority: row.priority,
    tags: row.tags,
    dueDate: row.due_date,
    dueAt: row.due_at === null ? null : instant(row.due_at),
    completedAt: row.completed_at === null ? null : instant(row.completed_at),
    listId: row.list_id,
    parentId: row.parent_id,
    position: row.position,
    outline: row.outline,
    subtaskCount: row.subtask_count,
    completedSubtaskCount: row.completed_subtask_count,
    version: row.version,
    // Absent in items trashed before the column existed.
    recurrence: row.recurrence ?? null,
    reminders,
  })
}

export const trashModels = {
  TrashedTask: TrashedTaskSchema,
  TrashPage: t.Array(TrashedTaskSchema, { description: 'A page of the trash, newest first' }),
}
