import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import type { TaskRow } from '../../db/schema'

/** A task row as the service reads it: without the columns that only serve queries, with its reminders. */
export type TaskRecord = Omit<TaskRow, 'search' | 'tagKeys' | 'dueSort'> & { reminders: TaskReminder[] }

import { choice } from '../../schema/choice'
import { Text } from '../../schema/text'
import { TimeZone } from '../../schema/time-zone'
import { RemindersInput, type TaskReminder, TaskReminderSchema } from '../reminders/model'
import { DueValue } from './due'
import { MAX_RULE_LENGTH, publicRecurrence, RECURRENCE_FROM } from './recurrence'

export const MAX_PAGE_SIZE = 500
export const DEFAULT_PAGE_SIZE = 100

export const PRIORITIES = ['low', 'medium', 'high'] as const
export type Priority = (typeof PRIORITIES)[number]
const instantOrNull = (description: string) =>
  t.Union([t.String({ format: 'date-time' }), t.Null()], { description, examples: ['2026-01-31T09:15:00.000Z'] })

const RULE_DESCRIPTION =
  'An RFC 5545 RRULE (an optional `RRULE:` prefix is dropped; stored in upper case). Parts: `FREQ` (DAILY, WEEKLY, MONTHLY or YEARLY; required), `INTERVAL`, `BYDAY` (weekdays, with ordinals such as `-1FR` for MONTHLY and YEARLY), `BYMONTHDAY` (1 to 31 or -31 to -1), `BYMONTH`, `BYSETPOS`, `COUNT` or `UNTIL` (a date, or a UTC date-time `20261231T235959Z`; a date for a task due on a calendar date), `WKST`. The due date is the first occurrence. Dates a rule names that a month lacks (the 31st, Feb 29) are skipped, as RFC 5545 says'

export const RecurrenceSchema = t.Object(
  {
    rule: t.String({ description: RULE_DESCRIPTION, examples: ['FREQ=MONTHLY;BYMONTHDAY=-1'] }),
    tz: t.String({
      description:
        'The IANA time zone whose wall clock the series keeps: "daily at 09:00" stays at 09:00 there across clock changes; a time a spring-forward change skips moves forward by the gap',
      examples: ['Europe/Berlin'],
    }),
    from: choice(RECURRENCE_FROM, {
      description:
        '`due`: the next due date follows the schedule from the current one. `completion`: the series restarts on the day the task is completed (in `tz`), as in "3 days after I last did it"',
      examples: ['due'],
    }),
  },
  { description: 'How a task repeats. Completing it moves its due date to the next occurrence instead of closing it' },
)

// Without TimeZone's `default`: a default anywhere in a body's schema makes Elysia build a body
// when none was sent (`{}`), and a missing body would no longer be reported as missing.
const { default: _utc, ...recurrenceZone } = TimeZone({
  description:
    'The IANA time zone whose wall-clock time the series keeps (default UTC); also decides the day of a `completion` restart',
})

export const RecurrenceInput = t.Union(
  [
    t.Object(
      {
        rule: Text({
          minLength: 1,
          maxLength: MAX_RULE_LENGTH,
          description: RULE_DESCRIPTION,
          errorMessage: 'must be an RRULE such as FREQ=WEEKLY;BYDAY=MO',
          examples: ['FREQ=WEEKLY;BYDAY=MO'],
        }),
        tz: t.Optional(recurrenceZone),
        from: t.Optional(
          choice(RECURRENCE_FROM, {
            description:
              '`due` (the default): the next due date follows the schedule; `completion`: counted from the day it is completed',
            examples: ['completion'],
          }),
        ),
      },
      { additionalProperties: false },
    ),
    t.Null(),
  ],
  {
    description:
      'Make the task repeat (it needs a due date, which is the first occurrence), or null to stop. Setting it starts the series again at the current due date (for `COUNT`)',
    errorMessage: 'must be null or an object {rule, tz?, from?}',
    examples: [{ rule: 'FREQ=DAILY', tz: 'Europe/Berlin', from: 'due' }],
  },
)
export type RecurrenceInputValue = typeof RecurrenceInput.static

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
  priority: choice(PRIORITIES, { examples: ['high'] }),
  tags: t.Array(t.String(), { examples: [['work', 'errands']] }),
  due_date: t.Union([t.String(), t.Null()], {
    description: 'A calendar date `YYYY-MM-DD` exactly as given, or an instant in UTC; null when there is none',
    examples: ['2026-03-01', '2026-03-01T04:00:00.000Z'],
  }),
  completed_at: instantOrNull('When the task was last completed; null while it is open'),
  list_id: Type.Integer({ minimum: 1, description: 'The list the task is in', examples: [7] }),
  parent_id: t.Union([Type.Integer({ minimum: 1 }), t.Null()], {
    description: 'The task this one is a subtask of; null for a top-level task',
    examples: [null, 41],
  }),
  position: t.String({
    description: 'Opaque key of the manual order among its siblings (same list and parent): sort bytewise',
    examples: ['a0'],
  }),
  subtask_count: Type.Integer({ minimum: 0, description: 'Direct subtasks', examples: [3] }),
  completed_subtask_count: Type.Integer({
    minimum: 0,
    description: 'Direct subtasks that are completed',
    examples: [1],
  }),
  recurrence: t.Union([RecurrenceSchema, t.Null()], {
    description: 'How the task repeats; null for a one-off task',
  }),
  next_due: t.Union([t.String(), t.Null()], {
    description:
      'For an open recurring task: the occurrence after the current due date (a date or a UTC instant, like `due_date`); null when the series ends at the current one (`COUNT`, `UNTIL`), for a completed task, and for a one-off task',
    examples: ['2026-03-08', '2026-03-08T08:00:00.000Z'],
  }),
  version: Type.Integer({
    minimum: 1,
    description:
      'Grows with every change of the task (and of its subtask counts); the `ETag` carries it. Send it back in `If-Match` to change the task only if nobody else did.',
    examples: [12],
  }),
  reminders: t.Array(TaskReminderSchema, {
    description:
      'Its reminders, oldest first. Whether one has fired or was acknowledged is not part of the task (firing does not change its version): see GET /api/{user_id}/reminders',
  }),
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
const priority = choice(PRIORITIES, { description: 'low, medium (the default) or high', examples: ['high'] })
export const MAX_TAGS = 20
const tag = Text({
  minLength: 1,
  maxLength: 50,
  trim: true,
  pattern: '^[^,]*$',
  errorMessage: 'must be 1 to 50 characters, without commas',
})
const tags = t.Array(tag, {
  maxItems: MAX_TAGS,
  description:
    'Up to 20 tags of 1 to 50 characters, without commas; trimmed, compared case-insensitively, duplicates dropped, order kept',
  errorMessage: 'must be a list of at most 20 tags, each 1 to 50 characters without commas',
  examples: [['work', 'errands']],
})
const dueDate = t.Union([DueValue(), t.Null()], {
  description:
    'A calendar date `YYYY-MM-DD` (never shifted by time zones) or an instant with an offset (returned in UTC); null clears it',
  errorMessage: 'must be null, a date (YYYY-MM-DD) or a date-time with an offset (2026-03-01T09:00:00+05:00)',
  examples: ['2026-03-01', '2026-03-01T09:00:00+05:00'],
})
const writable = {
  description: t.Optional(description),
  completed: t.Optional(completed),
  priority: t.Optional(priority),
  tags: t.Optional(tags),
  due_date: t.Optional(dueDate),
  recurrence: t.Optional(RecurrenceInput),
  reminders: t.Optional(RemindersInput),
}

/** The largest id the `integer` column can hold: a larger one names no task. */
export const MAX_TASK_ID = 2_147_483_647

const reference = (description: string, examples: number[] = [7]) =>
  Type.Integer({ minimum: 1, maximum: MAX_TASK_ID, description, errorMessage: 'must be an id', examples })
const placement = {
  after_id: t.Optional(reference('Put the task right after this sibling (same list and parent)', [40])),
  before_id: t.Optional(reference('Put the task right before this sibling (same list and parent)', [40])),
}
const parentId = t.Union([reference('', [41]), t.Null()], {
  description: `Make it a subtask of this task (at most 4 levels below a top-level task), or null for top level`,
  errorMessage: 'must be a task id or null',
  examples: [41],
})

export const CreateTaskBody = t.Object(
  {
    title,
    ...writable,
    list_id: t.Optional(reference("The list to put it in; default: your default list, or the parent's list")),
    parent_id: t.Optional(parentId),
    ...placement,
  },
  {
    additionalProperties: false,
    examples: [
      { title: 'Buy milk', description: 'Two litres, semi-skimmed', tags: ['errands'], due_date: '2026-03-01' },
    ],
  },
)
export type CreateTaskInput = typeof CreateTaskBody.static

export const UpdateTaskBody = t.Object(
  { title: t.Optional(title), ...writable },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Any non-empty subset of the writable fields',
    examples: [{ title: 'Buy oat milk', priority: 'high', tags: ['errands', 'today'] }],
  },
)
export type UpdateTaskInput = typeof UpdateTaskBody.static

export const MoveTaskBody = t.Object(
  {
    list_id: t.Optional(reference('Move it (with its subtasks) to this list; alone it makes the task top level there')),
    parent_id: t.Optional(parentId),
    ...placement,
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description:
      'Where the task goes. Without `after_id` / `before_id` it goes first among its new siblings. Without `parent_id` it keeps its parent, unless `list_id` names another list (then it becomes top level there)',
    examples: [{ parent_id: 41, after_id: 40 }, { list_id: 7 }, { before_id: 12 }],
  },
)
export type MoveTaskInput = typeof MoveTaskBody.static

/** No body at all is allowed too: the route turns it into `{}` before validation. */
export const CompleteBody = t.Object(
  { completed: t.Optional(completed) },
  {
    additionalProperties: false,
    description: 'With `completed` it sets that value; with no body or `{}` it toggles',
    examples: [{ completed: true }],
  },
)

// Elysia's number coercion also reads 0x1, 1e0, +1, 1.0 and 01 as 1; only a plain decimal id
// within the column's range names a row. The range is checked here, not only by the schema's
// `maximum`: the minified binary let 2147483648 through to Postgres, which refused it (a 400).
const CANONICAL_ID = /^[1-9]\d{0,9}$/
export const namesARow = (raw: string) => CANONICAL_ID.test(raw) && Number(raw) <= MAX_TASK_ID

/**
 * A transform for routes with an `id` path parameter and a `limit`: an id that names no row
 * fails validation (a 404 there, after the auth check), and so does a page size that is not a
 * plain decimal.
 */
export function plainIdAndLimit({ params, query }: { params: unknown; query: unknown }) {
  const raw = (params as Record<string, string | undefined>).id
  if (raw !== undefined && !namesARow(raw)) (params as Record<string, string>).id = 'not-an-id'
  const values = query as Record<string, unknown>
  if (typeof values.limit === 'string' && !/^[1-9]\d*$/.test(values.limit)) values.limit = 'not-a-number'
}

const pathUser = t.String({ description: "The token's subject (user id), or `me` for it", examples: ['me'] })
export const UserParams = t.Object({ user_id: pathUser })
export const TaskParams = t.Object({
  user_id: pathUser,
  id: t.Integer({ minimum: 1, maximum: MAX_TASK_ID, description: 'Task id', examples: [42], 'x-param': 'id' }),
})

export const TaskStatus = t.UnionEnum(['all', 'pending', 'completed'], {
  default: 'all',
  description: 'Which tasks to list',
  errorMessage: 'must be one of all, pending, completed',
})
export type TaskStatus = typeof TaskStatus.static

export const SORT_KEYS = ['created', 'updated', 'title', 'due_date', 'priority', 'completed_at', 'position'] as const
export type SortKey = (typeof SORT_KEYS)[number]
const SORT_VALUES = [
  ...SORT_KEYS,
  '-created',
  '-updated',
  '-title',
  '-due_date',
  '-priority',
  '-completed_at',
  '-position',
] as const

const listFilter = t.Integer({
  minimum: 1,
  maximum: MAX_TASK_ID,
  description: 'Only tasks in this list (subtasks included)',
  errorMessage: 'must be a list id',
  'x-param': 'list_id',
  examples: [7],
})

/** `limit` of a paged route (the task list, the trash). */
export const pageSize = t.Optional(
  t.Integer({
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    description: `Page size, 1 to ${MAX_PAGE_SIZE}`,
    errorMessage: `must be a whole number from 1 to ${MAX_PAGE_SIZE}`,
    'x-param': 'limit',
  }),
)

const page = {
  limit: pageSize,
  cursor: t.Optional(
    Text({
      maxLength: 2048,
      description: 'Opaque position from the previous page\'s Link rel="next" header; only valid with the same query',
      errorMessage: 'is not a valid cursor',
    }),
  ),
}

export const ListQuery = t.Object(
  {
    status: t.Optional(TaskStatus),
    priority: t.Optional(
      t.Array(choice(PRIORITIES), {
        description: 'Only these priorities: repeat the parameter or separate with commas (`priority=high,medium`)',
        errorMessage: 'must be low, medium or high (repeated or comma-separated)',
        'x-param': 'priority',
        examples: [['high'], ['high', 'medium']],
      }),
    ),
    tag: t.Optional(
      t.Array(tag, {
        maxItems: MAX_TAGS,
        description: 'Only tasks carrying these tags (any case): repeat the parameter or separate with commas',
        errorMessage: 'must be up to 20 tags of 1 to 50 characters',
        'x-param': 'tag',
        examples: [['work'], ['work', 'urgent']],
      }),
    ),
    tag_mode: t.Optional(
      choice(['all', 'any'], {
        description: 'With several `tag`s: every one (`all`, the default) or at least one (`any`)',
      }),
    ),
    due_before: t.Optional(
      DueValue({
        description:
          'Due strictly before this date or instant. A date means the start of that day in `tz`; a task due on a calendar date is compared by the start of its day in `tz` (so dates compare as dates)',
        examples: ['2026-03-01', '2026-03-01T09:00:00Z'],
      }),
    ),
    due_after: t.Optional(
      DueValue({
        description:
          'Due at or after this date or instant (same reading as `due_before`); together they form a half-open range',
        examples: ['2026-02-01', '2026-02-01T00:00:00+01:00'],
      }),
    ),
    overdue: t.Optional(
      t.Boolean({
        description:
          'true: open tasks whose due instant has passed, or whose due date is before today in `tz`; false: every other task',
        errorMessage: 'must be true or false',
        examples: [true],
      }),
    ),
    recurring: t.Optional(
      t.Boolean({
        description: 'Only recurring tasks (true) or only one-off tasks (false)',
        errorMessage: 'must be true or false',
      }),
    ),
    has_due: t.Optional(
      t.Boolean({
        description: 'Only tasks with (true) or without (false) a due date',
        errorMessage: 'must be true or false',
      }),
    ),
    q: t.Optional(
      // Not `trim`: that would also refuse a q of only invisible characters, under the length
      // message; readListQuery trims it and asks for a letter or digit instead.
      Text({
        maxLength: 200,
        description:
          'Full-text search in title and description: every word must match, in any case and simple word form; the last word also matches as a prefix (`meet` finds "Meeting notes")',
        errorMessage: 'must be at most 200 characters',
        examples: ['meeting notes'],
      }),
    ),
    tz: t.Optional(TimeZone()),
    list_id: t.Optional(listFilter),
    parent_id: t.Optional(
      t.String({
        pattern: '^(none|[1-9][0-9]{0,9})$',
        description: 'Only the direct subtasks of this task (an id), or `none` for top-level tasks only',
        errorMessage: 'must be a task id or none',
        'x-param': 'parent_id',
        examples: ['none', '41'],
      }),
    ),
    sort: t.Optional(
      choice(SORT_VALUES, {
        description:
          'Order by `created` (default), `updated`, `title` (case-insensitive), `due_date` (tasks without one last), `priority` (by importance), `completed_at` (open tasks last) or `position` (outline order: list by list, each task followed by its subtasks, siblings in their manual order); ties by id. A leading `-` means descending',
        examples: ['-priority', 'due_date'],
      }),
    ),
    order: t.Optional(
      choice(['asc', 'desc'], {
        description:
          'Direction; defaults to desc for created, updated, priority and completed_at (newest or most important first) and asc for title, due_date and position',
      }),
    ),
    ...page,
  },
  { additionalProperties: false },
)
export type ListQueryInput = typeof ListQuery.static

export const StatsQuery = t.Object(
  { tz: t.Optional(TimeZone()), list_id: t.Optional(listFilter) },
  { additionalProperties: false },
)
export const NoQuery = t.Object({}, { additionalProperties: false })

export const CompletionSchema = t.Object(
  {
    id: Type.Integer({ minimum: 1, examples: [5] }),
    task_id: Type.Integer({ minimum: 1, examples: [42] }),
    completed_at: t.String({
      format: 'date-time',
      description: 'When it was completed',
      examples: ['2026-03-02T18:04:11.000Z'],
    }),
    due: t.String({
      description: 'The due date of the occurrence that was completed (a date or a UTC instant)',
      examples: ['2026-03-02T08:00:00.000Z'],
    }),
    next_due: t.Union([t.String(), t.Null()], {
      description: 'Where the due date moved; null when this completion ended the series (COUNT or UNTIL used up)',
      examples: ['2026-03-03T08:00:00.000Z'],
    }),
  },
  { description: 'One completion of a recurring task' },
)
export type Completion = typeof CompletionSchema.static

export const CompletionsQuery = t.Object({ limit: pageSize, cursor: page.cursor }, { additionalProperties: false })

const count = (description: string) => Type.Integer({ minimum: 0, description, examples: [3] })
export const StatsSchema = t.Object({
  total: count('Every task'),
  completed: count('Completed tasks'),
  pending: count('Open tasks'),
  overdue: count('Open tasks whose due instant has passed or whose due date is before today in `tz`'),
  due_today: count('Open tasks due today in `tz` (a date of today, or an instant within today)'),
  by_priority: t.Object({ high: count('All tasks of high priority'), medium: count('Medium'), low: count('Low') }),
  by_tag: t.Array(
    t.Object({
      tag: t.String({ examples: ['work'] }),
      total: count('Tasks with the tag'),
      pending: count('Open ones'),
    }),
    { description: 'Most used first' },
  ),
})
export type Stats = typeof StatsSchema.static

export const TagCountSchema = t.Object({
  tag: t.String({ description: "The tag as it is most often spelled in the user's tasks", examples: ['work'] }),
  count: count('How many tasks carry it'),
})

/** The one place a row becomes the public shape: new columns stay private until named here. */
export function toTask(row: TaskRecord): Task {
  return {
    id: row.id,
    user_id: row.userId,
    title: row.title,
    description: row.description,
    completed: row.completed,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    priority: row.priority,
    tags: row.tags,
    due_date: row.dueDate ?? row.dueAt?.toISOString() ?? null,
    completed_at: row.completedAt?.toISOString() ?? null,
    list_id: row.listId,
    parent_id: row.parentId,
    position: row.position,
    subtask_count: row.subtaskCount,
    completed_subtask_count: row.completedSubtaskCount,
    recurrence: publicRecurrence(row.recurrence),
    next_due: row.recurrence && !row.completed ? row.recurrence.next : null,
    version: row.version,
    reminders: row.reminders,
  }
}

/** The tasks module's named models: routes refer to them by name, and so does the OpenAPI document. */
export const taskModels = {
  Task: TaskSchema,
  TaskList: t.Array(TaskSchema, { description: 'A page of tasks' }),
  Stats: StatsSchema,
  TagCount: TagCountSchema,
  TagCountList: t.Array(TagCountSchema, { description: 'Most used first' }),
  CreateTask: CreateTaskBody,
  UpdateTask: UpdateTaskBody,
  CompleteTask: CompleteBody,
  MoveTask: MoveTaskBody,
  Recurrence: RecurrenceSchema,
  Completion: CompletionSchema,
  CompletionList: t.Array(CompletionSchema, { description: 'A page of completions, newest first' }),
}
