import { t } from 'elysia'
import { SYNC_TOKEN, syncTokenParam } from '../sync/model'

export const EventsQuery = t.Object(
  {
    since: syncTokenParam(
      'Start after this sync token (a `next` of the change feed, or an event id). `Last-Event-ID` wins over it. Without either, the stream starts at the current token: only new changes.',
    ),
    ticket: t.Optional(
      t.String({
        pattern: '^[A-Za-z0-9_-]{43}$',
        description:
          'A stream ticket from POST /api/auth/stream-ticket, for clients that cannot send Authorization (EventSource). Single use, 60 seconds.',
        errorMessage: 'must be a ticket from POST /api/auth/stream-ticket',
      }),
    ),
  },
  { additionalProperties: false },
)

/** `Last-Event-ID`, checked by hand: a header schema would also judge every other header. */
export const LAST_EVENT_ID = SYNC_TOKEN

export const StreamTicketSchema = t.Object(
  {
    ticket: t.String({
      description: 'Pass as `?ticket=` to GET /api/{user_id}/events, once, within 60 seconds. Valid on no other route.',
      examples: ['3q2-7wE5bHkMtq1oXzV0c9QmHfRr2sGmF1NnYq8uKx4'],
    }),
    expires_at: t.String({ format: 'date-time', description: 'When the ticket stops working' }),
  },
  { description: 'A single-use ticket that opens one event stream' },
)

export const EventStreamSchema = t.String({
  description:
    'A text/event-stream: `event: change`, `id: <sync token>`, `data: <Change JSON>` per change; `event: reminder`, `data: <Reminder JSON>` per reminder that fired; and `: keep-alive` comments',
})

export const eventModels = {
  StreamTicket: StreamTicketSchema,
  EventStream: EventStreamSchema,
}
