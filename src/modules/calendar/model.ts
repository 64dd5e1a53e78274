import { t } from 'elysia'

/** 32 random bytes in base64url, as POST /api/{user_id}/calendar/key makes them. */
export const KEY_PATTERN = '^[A-Za-z0-9_-]{43}$'

export const FeedQuery = t.Object(
  {
    key: t.String({
      pattern: KEY_PATTERN,
      description:
        'The calendar key from POST /api/{user_id}/calendar/key (part of the `url` it answers). Not the access token.',
      errorMessage: 'must be the key from POST /api/{user_id}/calendar/key',
    }),
  },
  { additionalProperties: false },
)

export const CalendarKeySchema = t.Object(
  {
    key: t.String({
      description:
        'The secret of the feed URL. Shown only in this answer: the server keeps a hash of it. Anyone holding it can read your open tasks that have a due date, until you rotate or revoke it.',
      examples: ['3q2-7wE5bHkMtq1oXzV0c9QmHfRr2sGmF1NnYq8uKx4'],
    }),
    url: t.String({
      format: 'uri',
      description: 'The feed URL with the key, to subscribe to from a calendar app (Google Calendar: "From URL")',
      examples: ['https://todo.example.com/api/0193b2c4/calendar.ics?key=3q2-7wE5bHkMtq1oXzV0c9QmHfRr2sGmF1NnYq8uKx4'],
    }),
    webcal_url: t.String({
      description: 'The same URL with the `webcal:` scheme, which opens a subscription in Apple Calendar and Outlook',
      examples: ['webcal://todo.example.com/api/0193b2c4/calendar.ics?key=3q2-7wE5bHkMtq1oXzV0c9QmHfRr2sGmF1NnYq8uKx4'],
    }),
    created_at: t.String({ format: 'date-time', description: 'When this key was made' }),
  },
  { description: 'A new calendar feed key; any key made before it no longer works' },
)

export const CalendarKeyStatusSchema = t.Object(
  {
    exists: t.Boolean({ description: 'Whether a key is in force (the feed answers)' }),
    created_at: t.Union([t.String({ format: 'date-time' }), t.Null()], {
      description: 'When the key in force was made; null without one',
    }),
  },
  { description: 'Whether you have a calendar feed key; never the key itself' },
)

export const CalendarFeedSchema = t.String({
  description:
    'An iCalendar document (RFC 5545, `text/calendar`): one VEVENT per open task with a due date, recurring ones with an RRULE',
})

export const calendarModels = {
  CalendarKey: CalendarKeySchema,
  CalendarKeyStatus: CalendarKeyStatusSchema,
  CalendarFeed: CalendarFeedSchema,
}
