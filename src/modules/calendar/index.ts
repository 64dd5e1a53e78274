import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Db } from '../../db/client'
import { noneMatchHits } from '../../http/conditional'
import { notFound, rateLimited } from '../../http/problem'
import { rejectRepeatedParams, rejectUndecodableParams } from '../../http/query'
import { createRateLimiter } from '../../http/rate-limit'
import { quotaHeaders } from '../../http/rate-limit-headers'
import { IfNoneMatchOnly, notModified } from '../../schema/conditional'
import { header } from '../../schema/headers'
import { models } from '../../schema/models'
import { NoContent, problems } from '../../schema/problem'
import { UserParams } from '../tasks/model'
import { REFRESH_SECONDS, renderFeed, TIMED_EVENT_MINUTES } from './feed'
import { FeedQuery } from './model'
import { createKey, feedOwner, feedTasks, keyCreatedAt, revokeKey } from './service'

export interface CalendarDeps {
  db: Db
  auth: AuthPlugin
  /** Feed fetches per user and minute (RATE_LIMIT_PER_MINUTE), counted apart from API calls. */
  rateLimitPerMinute: number
  /** TRUST_PROXY: the feed URL takes its scheme and host from X-Forwarded-Proto and -Host. */
  trustProxy: boolean
}

/** The key routes' path; its answers carry the key, so they are never kept for an Idempotency-Key replay. */
export const CALENDAR_KEY_PATH = '/api/:user_id/calendar/key'

const security = [{ bearer: [] }]
const tags = ['calendar']
// Calendar apps poll on their own schedule; a revalidation with the ETag is cheap. `private`:
// the URL carries a secret, so no shared cache keeps the answer.
const CACHE_CONTROL = 'private, no-cache'
const NO_FEED =
  'No calendar feed answers to this key here: it is wrong, was replaced or revoked, or belongs to another user. Make a new one with POST /api/{user_id}/calendar/key.'

/** The origin clients reach this server at, for the feed URL and the events' UIDs. */
function publicOrigin(request: Request, trustProxy: boolean): URL {
  const url = new URL(request.url)
  if (!trustProxy) return new URL(url.origin)
  const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim()
  const host = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim()
  const scheme = proto === 'http' || proto === 'https' ? proto : url.protocol.slice(0, -1)
  // A forwarded host names its own port, or none (the scheme's default): never ours.
  return new URL(`${scheme}://${host && /^[\w.-]+(:\d{1,5})?$/.test(host) ? host : url.host}`)
}

const FEED_FORMAT = `An iCalendar feed (RFC 5545) of your open tasks that have a due date, to subscribe to from Google Calendar ("Other calendars" → "From URL"), Apple Calendar ("New Calendar Subscription") or Outlook. Authenticated by \`?key=\` alone (calendar apps send no Authorization): the key of the user the path names, from POST /api/{user_id}/calendar/key; \`me\` does not work here.

- One VEVENT per task (Google Calendar ignores VTODOs in subscriptions), UID \`task-<id>@<host>\`, stable for the task's life. SUMMARY is the title, DESCRIPTION the description, CATEGORIES the tags, PRIORITY 1 (high), 5 (medium) or 9 (low); SEQUENCE is the task's version. TRANSP:TRANSPARENT: a due date does not make you busy.
- Due on a calendar date: an all-day event. Due at an instant: a ${TIMED_EVENT_MINUTES}-minute event starting then (in UTC).
- Repeating by its due date (\`recurrence.from: due\`): one recurring event from the current occurrence on, DTSTART in the series' zone (TZID, with its VTIMEZONE) at the series' wall-clock time, and the task's RRULE with COUNT reduced to the occurrences left. Repeating after completion (\`from: completion\`): the current occurrence only, since the next depends on when it is done.
- Completed and deleted (trashed) tasks are not in it; subtasks with a due date are.
- REFRESH-INTERVAL and X-PUBLISHED-TTL ask for a fetch every ${REFRESH_SECONDS / 3600} hour (apps choose: Google takes hours). \`ETag\` with \`If-None-Match\` answers 304.

A key that is wrong, replaced, revoked or another user's is a 404 (nothing tells which, or whether the user exists). Fetches count against their own per-user rate limit, after the key is checked.`

export const calendarModule = ({ db, auth, rateLimitPerMinute, trustProxy }: CalendarDeps) => {
  const feedLimiter = createRateLimiter(rateLimitPerMinute)
  return new Elysia({ name: 'calendar' })
    .use(models)
    .use(auth)
    .post(
      CALENDAR_KEY_PATH,
      async ({ userId, request, status }) => {
        const { key, createdAt } = await createKey(db, userId)
        const origin = publicOrigin(request, trustProxy)
        const url = `${origin.origin}/api/${encodeURIComponent(userId)}/calendar.ics?key=${key}`
        return status(201, {
          key,
          url,
          webcal_url: url.replace(/^https?:/, 'webcal:'),
          created_at: createdAt.toISOString(),
        })
      },
      {
        auth: true,
        params: UserParams,
        response: { 201: 'CalendarKey', ...problems(401, 403, 429, 503) },
        detail: {
          operationId: 'createCalendarKey',
          summary: 'Make (or replace) the key of your calendar feed',
          description:
            'Answers the new key and the feed URL, once: only a hash of the key is stored. A key made before stops working at once (rotation). Takes no Idempotency-Key, so that the key is never stored for a replay: a retry makes another key, which replaces this one.',
          tags,
          security,
        },
      },
    )
    .get(
      CALENDAR_KEY_PATH,
      async ({ userId }) => {
        const createdAt = await keyCreatedAt(db, userId)
        return { exists: createdAt !== undefined, created_at: createdAt?.toISOString() ?? null }
      },
      {
        auth: true,
        params: UserParams,
        response: { 200: 'CalendarKeyStatus', ...problems(401, 403, 429, 503) },
        detail: {
          operationId: 'getCalendarKey',
          summary: 'Whether your calendar feed has a key, and since when (never the key)',
          description:
            'The key itself was shown once, by POST; to see a URL again, make a new key (the old one stops working).',
          tags,
          security,
        },
      },
    )
    .delete(
      CALENDAR_KEY_PATH,
      async ({ userId, status }) => {
        await revokeKey(db, userId)
        return status(204, undefined)
      },
      {
        auth: true,
        params: UserParams,
        response: { 204: NoContent, ...problems(401, 403, 429, 503) },
        detail: {
          operationId: 'revokeCalendarKey',
          summary: 'Revoke your calendar feed key: the feed answers 404 from now on',
          description: 'Also 204 when there was no key.',
          tags,
          security,
        },
      },
    )
    .get(
      '/api/:user_id/calendar.ics',
      async ({ params, query, request, set, status }) => {
        const owner = await feedOwner(db, params.user_id, query.key)
        if (!owner) throw notFound(NO_FEED)
        const decision = feedLimiter.take(params.user_id)
        if (decision) {
          quotaHeaders(set.headers)(decision.quota)
          if (decision.retryAfter > 0) throw rateLimited(decision.retryAfter)
        }
        const origin = publicOrigin(request, trustProxy)
        const body = renderFeed(await feedTasks(db, params.user_id), {
          name: `Tasks of ${owner.name ?? owner.email ?? params.user_id}`,
          host: origin.hostname,
          now: new Date(),
        })
        const etag = `"${new Bun.CryptoHasher('sha256').update(body).digest('base64url')}"`
        set.headers.etag = etag
        set.headers['cache-control'] = CACHE_CONTROL
        if (noneMatchHits(request, etag)) return status(304, undefined)
        set.headers['content-type'] = 'text/calendar; charset=utf-8'
        return body
      },
      {
        params: UserParams,
        query: FeedQuery,
        headers: IfNoneMatchOnly,
        beforeHandle: ({ request }) => {
          rejectUndecodableParams(request)
          rejectRepeatedParams(request, ['key'])
        },
        response: { 200: 'CalendarFeed', ...notModified, ...problems(400, 404, 429, 503) },
        detail: {
          operationId: 'calendarFeed',
          summary: 'Your open tasks with a due date, as an iCalendar feed to subscribe to',
          description: FEED_FORMAT,
          tags,
          security: [],
          responses: {
            200: {
              description: 'The feed',
              content: { 'text/calendar': { schema: { type: 'string' } } },
              headers: {
                ETag: header('A digest of the feed: send it as If-None-Match'),
                'Cache-Control': header(CACHE_CONTROL),
              },
            },
            304: { description: 'Unchanged since the `ETag` you sent' },
          },
        },
      },
    )
}
