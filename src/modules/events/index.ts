import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Database } from '../../db/client'
import { ProblemError, validationFailed } from '../../http/problem'
import { rejectRepeatedParams, rejectUndecodableParams } from '../../http/query'
import type { Logger } from '../../logger'
import { models } from '../../schema/models'
import { problems } from '../../schema/problem'
import { syncTokenExpired } from '../sync'
import { counterOf, EXPIRED, readChanges } from '../sync/service'
import { UserParams } from '../tasks/model'
import { createEventHub, MAX_STREAMS_PER_USER } from './hub'
import { EventsQuery, LAST_EVENT_ID } from './model'
import { createTicket } from './service'

export interface EventsDeps {
  database: Database
  auth: AuthPlugin
  logger: Logger
  heartbeatSeconds: number
}

// On the URL as Bun gives it: absolute, or the bare path when the request had no usable Host.
const EVENTS_URL = /^(?:[a-z][a-z0-9+.-]*:\/\/[^/]*)?\/api\/[^/?#]+\/events\/?(?:[?#]|$)/i

/** A request for an event stream: Bun's idle timeout must not cut it (see server.ts). */
export const isEventStream = (request: Request) => request.method === 'GET' && EVENTS_URL.test(request.url)

// A stream that closes frees its slot at once; a client retrying sooner than this is unlikely to find one.
const STREAM_LIMIT_RETRY_SECONDS = 5
const FIRST_PAGE = 500

const EVENT_FORMAT = `A Server-Sent Events stream (\`text/event-stream\`) of the same changes as GET /api/{user_id}/changes, oldest first, each once:

\`\`\`
event: change
id: 1288
data: {"type":"task","op":"upsert","id":42,"seq":1288,"task":{...}}
\`\`\`

\`data\` is one Change (see the Change model); \`id\` is that change's sync token: give it back as \`Last-Event-ID\` (EventSource does so by itself when it reconnects) or \`?since=\`, and the stream resumes right after it, with no gap and no duplicate. A comment line \`: keep-alive\` comes every EVENTS_HEARTBEAT (default 15 s) so that proxies keep the connection open. Without \`Last-Event-ID\` or \`since\` the stream starts at the current token: only new changes. A token too old for the feed is a 410 \`sync_token_expired\` before the stream starts (sync again via /changes without \`since\`); a stream that somehow falls past the horizon later gets one \`event: reset\` and is closed.

When one of your reminders fires, an \`event: reminder\` comes too, without an \`id\` (it is not a change of the feed), its \`data\` one Reminder (see the Reminder model and GET /api/{user_id}/reminders). A stream also sends the reminders that fired in the minute before it opened and are not acknowledged; each firing comes once per stream.

Authenticate with Authorization: Bearer, or (EventSource) with \`?ticket=\` from POST /api/auth/stream-ticket. At most ${MAX_STREAMS_PER_USER} open streams per user on one server instance: the next answers 429 with Retry-After until one closes.`

export const eventsModule = ({ database, auth, logger, heartbeatSeconds }: EventsDeps) => {
  const { db } = database
  const hub = createEventHub({ database, logger, heartbeatMs: heartbeatSeconds * 1000 })
  return new Elysia({ name: 'events' })
    .use(models)
    .use(auth)
    .decorate('eventStreams', hub)
    .post(
      '/api/auth/stream-ticket',
      async ({ userId, status }) => {
        const { ticket, expiresAt } = await createTicket(db, userId)
        return status(201, { ticket, expires_at: expiresAt.toISOString() })
      },
      {
        auth: true,
        response: { 201: 'StreamTicket', ...problems(401, 429, 503) },
        detail: {
          operationId: 'createStreamTicket',
          summary: 'A single-use ticket to open an event stream without an Authorization header',
          description:
            "Browsers' EventSource cannot send Authorization: open `GET /api/{user_id}/events?ticket=<ticket>` instead. The ticket works once, for 60 seconds, on the events route only (any instance accepts it); used or expired it answers 401. EventSource reconnects with the same URL, so on its error event get a new ticket and open a new EventSource with `?since=<last event id>`.",
          tags: ['auth'],
          security: [{ bearer: [] }],
        },
      },
    )
    .get(
      '/api/:user_id/events',
      async ({ userId, query, request }) => {
        const lastEventId = request.headers.get('last-event-id')
        if (lastEventId !== null && !LAST_EVENT_ID.test(lastEventId))
          throw validationFailed('Last-Event-ID must be the id of an event of this stream.', [
            { field: 'Last-Event-ID', message: 'must be the id of an event of this stream' },
          ])
        const given = lastEventId ?? query.since
        if (hub.count(userId) >= MAX_STREAMS_PER_USER)
          throw new ProblemError(
            429,
            'rate_limited',
            `You have ${MAX_STREAMS_PER_USER} event streams open already: close one first.`,
            { headers: { 'retry-after': String(STREAM_LIMIT_RETRY_SECONDS) } },
          )
        // Registered before the first read: a change committed during it is not missed.
        const stream = hub.register(userId)
        let first = ': connected\n\n'
        try {
          if (given === undefined) stream.sent = (await counterOf(db, userId)).seq
          else {
            const page = await readChanges(db, userId, Number(given), FIRST_PAGE)
            if (page === EXPIRED) throw syncTokenExpired()
            first += hub.events(page.changes)
            stream.sent = page.next
            if (page.hasMore) stream.again = true
          }
        } catch (error) {
          hub.close(stream)
          throw error
        }
        return new Response(hub.body(stream, first), {
          headers: {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache, no-transform',
            // nginx would otherwise buffer the stream.
            'x-accel-buffering': 'no',
          },
        })
      },
      {
        streamAuth: true,
        params: UserParams,
        query: EventsQuery,
        beforeHandle: ({ request }) => {
          rejectUndecodableParams(request)
          rejectRepeatedParams(request, ['since', 'ticket'])
        },
        response: { 200: 'EventStream', ...problems(400, 401, 403, 410, 429, 503) },
        detail: {
          operationId: 'streamEvents',
          summary: 'Live changes of your tasks and lists, as Server-Sent Events',
          description: EVENT_FORMAT,
          tags: ['sync'],
          security: [{ bearer: [] }],
          parameters: [
            {
              name: 'Last-Event-ID',
              in: 'header',
              required: false,
              description: 'The id of the last event received: the stream resumes right after it. Wins over `since`.',
              schema: { type: 'string', pattern: '^(0|[1-9][0-9]{0,9})$' },
            },
          ],
          responses: {
            200: {
              description: EVENT_FORMAT,
              content: { 'text/event-stream': {} },
            },
          },
        },
      },
    )
}

export type EventStreams = ReturnType<typeof createEventHub>
