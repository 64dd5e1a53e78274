import { Kind, type SchemaOptions, type TSchema, Type, TypeRegistry } from '@sinclair/typebox'
import { t } from 'elysia'
import { choice } from '../../schema/choice'
import { Text } from '../../schema/text'
import { parseDue } from '../tasks/due'
import { durationSeconds, MAX_BEFORE_SECONDS } from './duration'

export const MAX_REMINDERS = 5

interface TKind<K extends string> extends TSchema {
  [Kind]: K
  static: string
  type: 'string'
}

TypeRegistry.Set<TKind<'ReminderInstant'>>(
  'ReminderInstant',
  (_schema, value) => typeof value === 'string' && parseDue(value)?.kind === 'instant',
)
TypeRegistry.Set<TKind<'ReminderOffset'>>('ReminderOffset', (_schema, value) => {
  const seconds = typeof value === 'string' ? durationSeconds(value) : undefined
  return seconds !== undefined && seconds <= MAX_BEFORE_SECONDS
})

const kind = <K extends string>(name: K, options: SchemaOptions) =>
  ({ ...options, [Kind]: name, type: 'string' }) as unknown as TKind<K>

const at = kind('ReminderInstant', {
  description: 'Fire at this instant: RFC 3339 with an offset (returned in UTC)',
  errorMessage: 'must be a date-time with an offset (2026-03-01T08:45:00+01:00)',
  examples: ['2026-03-01T08:45:00+01:00'],
})
const before = kind('ReminderOffset', {
  description:
    "Fire this long before the task's due instant: an ISO 8601 duration of weeks (`P1W`) or of days, hours, minutes and seconds (`PT15M`, `P1DT12H`), at most 366 days; a day is 24 hours. Needs a due time (`due_date` with a time of day)",
  errorMessage: 'must be an ISO 8601 duration such as PT15M, PT2H, P1D or P1W (no years or months), at most 366 days',
  examples: ['PT15M'],
})

export const ReminderInput = t.Union(
  [
    t.Object({ at }, { additionalProperties: false, description: 'At an instant' }),
    t.Object({ before }, { additionalProperties: false, description: 'Before the due instant' }),
  ],
  {
    description: 'Either `{"at": "<date-time>"}` or `{"before": "<ISO 8601 duration>"}`',
    errorMessage:
      'must be {"at": "<date-time with an offset>"} or {"before": "<ISO 8601 duration of weeks, or of days, hours, minutes and seconds, such as PT15M or P1D; at most 366 days>"}',
    examples: [{ before: 'PT15M' }, { at: '2026-03-01T08:45:00+01:00' }],
  },
)
export type ReminderInputValue = typeof ReminderInput.static

export const RemindersInput = t.Array(ReminderInput, {
  maxItems: MAX_REMINDERS,
  description: `Up to ${MAX_REMINDERS} reminders; the list replaces the task's reminders (an empty list removes them). One equal to a reminder the task has keeps that reminder (its id, and whether it fired); duplicates count once`,
  errorMessage: `must be a list of at most ${MAX_REMINDERS} reminders, each {"at": ...} or {"before": ...}`,
  examples: [[{ before: 'PT15M' }, { at: '2026-03-01T08:00:00Z' }]],
})

const instantOrNull = (description: string, examples: (string | null)[] = ['2026-03-01T08:45:00.000Z']) =>
  t.Union([t.String({ format: 'date-time' }), t.Null()], { description, examples })

const fields = {
  id: Type.Integer({ minimum: 1, examples: [7] }),
  at: instantOrNull('The instant it fires at (an `at` reminder); null for a `before` one'),
  before: t.Union([t.String(), t.Null()], {
    description: 'How long before the due instant it fires (a `before` reminder), as given; null for an `at` one',
    examples: ['PT15M'],
  }),
  fire_at: instantOrNull(
    "When it fires (or fired) for the task's current occurrence; null while it will not: the task is completed, its time had passed when it was set, or the task is in the trash",
  ),
}

export const TaskReminderSchema = t.Object(fields, { description: 'A reminder, as its task shows it' })
export type TaskReminder = typeof TaskReminderSchema.static

export const REMINDER_STATES = ['pending', 'due', 'acknowledged', 'off'] as const
export type ReminderState = (typeof REMINDER_STATES)[number]

export const ReminderSchema = t.Object(
  {
    ...fields,
    task_id: Type.Integer({ minimum: 1, examples: [42] }),
    title: t.String({ description: "The task's title", examples: ['Pay rent'] }),
    due_date: t.Union([t.String(), t.Null()], {
      description: "The task's due date (a date or a UTC instant, as the task shows it)",
      examples: ['2026-03-01T09:00:00.000Z'],
    }),
    state: choice(REMINDER_STATES, {
      description:
        '`pending`: armed, fires at `fire_at`; `due`: fired and not acknowledged; `acknowledged`; `off`: will not fire (see `fire_at`)',
      examples: ['due'],
    }),
    fired_at: instantOrNull('When it fired; null until it has', ['2026-03-01T08:45:00.412Z']),
    late: t.Boolean({
      description:
        'It fired more than 30 seconds after its time (the service was down then): show it as missed rather than as coming up',
      examples: [false],
    }),
    acknowledged_at: instantOrNull('When it was acknowledged; null until then', [null]),
  },
  { description: 'A reminder with its task and where it stands' },
)
export type Reminder = typeof ReminderSchema.static

export const REMINDER_QUERY_STATES = ['due', 'pending', 'acknowledged', 'all'] as const
export type ReminderQueryState = (typeof REMINDER_QUERY_STATES)[number]

export const RemindersQuery = t.Object(
  {
    state: t.Optional(
      choice(REMINDER_QUERY_STATES, {
        description:
          'Which reminders: `due` (the default: fired and not acknowledged, most recently fired first), `pending` (armed, soonest first), `acknowledged` (most recently acknowledged first) or `all` (in the order they were added)',
        examples: ['due'],
      }),
    ),
    limit: t.Optional(
      t.Integer({
        minimum: 1,
        maximum: 500,
        description: 'Page size, 1 to 500 (default 100)',
        errorMessage: 'must be a whole number from 1 to 500',
        'x-param': 'limit',
      }),
    ),
    cursor: t.Optional(
      Text({
        maxLength: 2048,
        description: 'Opaque position from the previous page\'s Link rel="next" header; only valid with the same state',
        errorMessage: 'is not a valid cursor',
      }),
    ),
  },
  { additionalProperties: false },
)
export type RemindersQueryInput = typeof RemindersQuery.static

export const reminderModels = {
  TaskReminder: TaskReminderSchema,
  Reminder: ReminderSchema,
  ReminderList: t.Array(ReminderSchema, { description: 'A page of reminders' }),
}

const pathUser = t.String({ description: "The token's subject (user id), or `me` for it", examples: ['me'] })
export const ReminderParams = t.Object({
  user_id: pathUser,
  id: t.Integer({
    minimum: 1,
    maximum: 2_147_483_647,
    description: 'Reminder id',
    examples: [7],
    'x-param': 'id',
    'x-not-found': 'No reminder with that id.',
  }),
})
