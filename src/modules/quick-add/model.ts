import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { choice } from '../../schema/choice'
import { Text } from '../../schema/text'
import { TimeZone } from '../../schema/time-zone'
import { RecurrenceSchema, TaskSchema } from '../tasks/model'
import { MAX_TITLE, type SpanField } from './parse'

export const MAX_TEXT = 1000
const SPAN_FIELDS = ['due', 'recurrence', 'tag', 'priority', 'list'] as const satisfies readonly SpanField[]

// Without TimeZone's `default`: a default in a body's schema makes Elysia build a body when none was sent.
const { default: _utc, ...zone } = TimeZone({
  description:
    'The IANA time zone the text is read in: which day "today" and "tomorrow" are, and what "at 9am" means; also the zone a recurring task keeps its time in. Default UTC',
})

export const QuickAddBody = t.Object(
  {
    text: Text({
      minLength: 1,
      maxLength: MAX_TEXT,
      trim: true,
      description: `What the task is, in English, as a person types it: up to ${MAX_TEXT} characters (code points). \`#tag\`, \`!low|!medium|!high\` (or \`!1\` high, \`!2\` medium, \`!3\` low), \`@list name\` (one of your lists), a date or time ("tomorrow at 9", "friday", "March 3", "in 2 hours") and a recurrence ("every weekday", "every 2 weeks", "every month on the 1st", "every last friday"); the rest is the title`,
      errorMessage: `must be 1 to ${MAX_TEXT} characters and not blank`,
      examples: ['Pay rent every month on the 1st at 9am #home !high'],
    }),
    tz: t.Optional(zone),
  },
  {
    additionalProperties: false,
    examples: [{ text: 'Pay rent every month on the 1st at 9am #home !high', tz: 'Europe/Berlin' }],
  },
)
export type QuickAddInput = typeof QuickAddBody.static

export const QuickAddQuery = t.Object(
  {
    dry_run: t.Optional(
      t.Boolean({
        description:
          'true: read the text and answer what the task would be (200), creating nothing and keeping no Idempotency-Key',
        errorMessage: 'must be true or false',
        examples: [true],
      }),
    ),
  },
  { additionalProperties: false },
)

export const SpanSchema = t.Object(
  {
    field: choice(SPAN_FIELDS, {
      description:
        'What the text became: `due` (`due_date`), `recurrence`, `tag` (one of `tags`), `priority` or `list` (`list_id`)',
      examples: ['due'],
    }),
    start: Type.Integer({
      minimum: 0,
      description:
        "Where it starts in `text`, in UTF-16 code units from 0 (JavaScript's string indices: `text.slice(start, end)`)",
      examples: [32],
    }),
    end: Type.Integer({ minimum: 0, description: 'Where it ends, exclusive, in UTF-16 code units', examples: [38] }),
    text: t.String({ description: 'The part of `text` it covers', examples: ['at 9am'] }),
    value: t.String({
      description: 'What it became: the due value, the RRULE, the tag as stored, the priority, or the name of the list',
      examples: ['2026-04-01T07:00:00.000Z'],
    }),
  },
  {
    description:
      'A part of the text that became a field. Spans never overlap and come in text order; a phrase interrupted by a tag ("tomorrow #home at 9") is two spans of one field. What no span covers is the title',
  },
)

const spans = t.Array(SpanSchema, { description: 'The parts of the text that became fields, in text order' })

export const QuickAddDraftSchema = t.Object(
  {
    title: t.String({
      description: `The text less its spans, spaces collapsed; 1 to ${MAX_TITLE} characters`,
      examples: ['Pay rent'],
    }),
    priority: TaskSchema.properties.priority,
    tags: TaskSchema.properties.tags,
    due_date: TaskSchema.properties.due_date,
    recurrence: t.Union([RecurrenceSchema, t.Null()], {
      description: 'How the task would repeat; null for a one-off task',
    }),
    next_due: TaskSchema.properties.next_due,
    list_id: Type.Integer({
      minimum: 1,
      description: 'The list it would go to: the one `@list` named, else your default list',
      examples: [7],
    }),
  },
  { description: 'The task the text describes, as it would be created' },
)

export const quickAddModels = {
  QuickAdd: QuickAddBody,
  QuickAddSpan: SpanSchema,
  QuickAddDraft: QuickAddDraftSchema,
  QuickAddCreated: t.Object(
    { task: TaskSchema, spans },
    { description: 'The task created from the text, and which parts of the text became which field' },
  ),
  QuickAddPreview: t.Object(
    { task: QuickAddDraftSchema, spans },
    { description: 'What the text would create (`dry_run=true`): nothing was created' },
  ),
}
export type QuickAddDraft = typeof QuickAddDraftSchema.static
