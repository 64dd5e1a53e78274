import { type AnyElysia, Elysia, ElysiaCustomStatusResponse, StatusMap } from 'elysia'
import { pathOwnerOf } from '../../auth/plugin'
import type { Db } from '../../db/client'
import { rawBodyOf } from '../../http/json-body'
import { ProblemError } from '../../http/problem'
import type { Logger } from '../../logger'
import { fingerprint, IDEMPOTENCY_KEY, KEPT_HEADERS, NOT_REPLAYED, parseKey, REPLAYED, UNSAFE_METHODS } from './model'
import { type Claim, claimKey, releaseKey, type StoredAnswer, storeAnswer } from './service'

export interface IdempotencyDeps {
  db: Db
  logger: Logger
  ttlSeconds: number
  /** The request deadline: a first request running longer than this can no longer answer. */
  abandonAfterSeconds: number
}

// Seconds a client waits before retrying while the first request runs: requests take
// milliseconds, and an abandoned one is taken over once the deadline has passed.
const IN_USE_RETRY_AFTER = '1'
const NULL_BODY_STATUSES = new Set([204, 205, 304])

type Set = { status?: number | string; headers: Record<string, string | number | undefined> }

function statusOf(set: Set): number {
  if (typeof set.status === 'number') return set.status
  return set.status === undefined ? 200 : ((StatusMap as Record<string, number>)[set.status] ?? 200)
}

/** The answer as the client receives it, from what the handler (or the error handler) returned. */
async function answerOf(value: unknown, set: Set): Promise<StoredAnswer> {
  let status = statusOf(set)
  const headers: Record<string, string> = {}
  for (const name of KEPT_HEADERS) if (set.headers[name] !== undefined) headers[name] = String(set.headers[name])
  if (value instanceof ElysiaCustomStatusResponse) {
    status = value.code
    value = value.response
  }
  if (value instanceof Response) {
    for (const name of KEPT_HEADERS) {
      const given = value.headers.get(name)
      if (given !== null) headers[name] = given
    }
    return { status: value.status, headers, body: await value.clone().text() }
  }
  if (value === undefined || value === null) return { status, headers, body: '' }
  if (typeof value === 'string')
    return { status, headers: { 'content-type': 'text/plain;charset=utf-8', ...headers }, body: value }
  return {
    status,
    headers: { 'content-type': 'application/json;charset=utf-8', ...headers },
    body: JSON.stringify(value),
  }
}

function replay(answer: StoredAnswer): Response {
  const body = NULL_BODY_STATUSES.has(answer.status) ? null : answer.body
  return new Response(body, { status: answer.status, headers: { ...answer.headers, [REPLAYED]: 'true' } })
}

/**
 * `Idempotency-Key` on every POST, PUT, PATCH and DELETE of a `/api/{user_id}/...` route, as
 * request-wide hooks: a route added later is covered without a line of its own. The auth check
 * (a transform) has run and the body and query have been validated when the key is claimed, so
 * a request refused before its handler (401, 403, 400, 413, 415, 429) claims nothing; a retry
 * meets the same refusal. The handler's answer, success or problem, is kept unless it is a 5xx:
 * then the key is given up and a retry runs again.
 *
 * `/api/auth/*` routes take no key: they have no `{user_id}`, and those that create something
 * (register, login, refresh) are unauthenticated, so a key could not be scoped to a user.
 */
export const idempotency = ({ db, logger, ttlSeconds, abandonAfterSeconds }: IdempotencyDeps) => {
  const claims = new WeakMap<Request, Claim>()
  const giveUp = async (claim: Claim) => {
    try {
      await releaseKey(db, claim)
    } catch (err) {
      logger.error('idempotency key could not be released', { err, user_id: claim.userId })
    }
  }
  return new Elysia({ name: 'idempotency' })
    .onBeforeHandle({ as: 'global' }, async ({ request, route }) => {
      if (!UNSAFE_METHODS.has(request.method) || previewOnly(request) || NOT_REPLAYED.has(route)) return
      const header = request.headers.get(IDEMPOTENCY_KEY)
      const userId = pathOwnerOf(request)
      if (header === null || userId === undefined) return
      const key = parseKey(header)
      const print = fingerprint(request, userId, rawBodyOf(request))
      const result = await claimKey(db, userId, key, print, { ttlSeconds, abandonAfterSeconds })
      switch (result.kind) {
        case 'claimed':
          claims.set(request, result.claim)
          return
        case 'replay':
          return replay(result.answer)
        case 'reused':
          throw new ProblemError(
            422,
            'idempotency_key_reused',
            'This Idempotency-Key was already used for a different request (method, path, query or body); use a new key for a new request.',
          )
        case 'in_use':
          throw new ProblemError(
            409,
            'idempotency_key_in_use',
            'The first request with this Idempotency-Key is still being processed; retry shortly to get its answer.',
            { headers: { 'retry-after': IN_USE_RETRY_AFTER } },
          )
      }
    })
    .mapResponse({ as: 'global' }, async ({ request, responseValue, set }) => {
      const claim = claims.get(request)
      // On the error path Elysia sends whatever this hook returns, even undefined: always hand
      // the value on (typed as Response because Elysia's type only admits one).
      const unchanged = responseValue as Response
      if (!claim) return unchanged
      claims.delete(request)
      const answer = await answerOf(responseValue, set as Set)
      if (answer.status >= 500) await giveUp(claim)
      else
        await storeAnswer(db, claim, answer).catch((err) =>
          // The work is done and answered; a retry within the deadline gets a 409, later it runs again.
          logger.error('idempotent answer could not be stored', { err, user_id: claim.userId }),
        )
      return unchanged
    })
    .onAfterResponse({ as: 'global' }, async ({ request }) => {
      // An answer that never reached the hook above (it failed itself): a retry runs again.
      const claim = claims.get(request)
      if (claim) {
        claims.delete(request)
        await giveUp(claim)
      }
    })
}

// A dry run (`?dry_run=true`) changes nothing: like a GET it takes no key, so its answer is not
// kept, and the real request may follow with the same key.
const previewOnly = (request: Request) => new URL(request.url).searchParams.get('dry_run') === 'true'

type Json = Record<string, unknown>
interface DeclaredHooks {
  response?: Record<string, unknown>
  detail?: Json & { security?: unknown[]; parameters?: unknown[]; responses?: Record<string, Json> }
}

/** Whether a route of the route table takes `Idempotency-Key`: the same routes the hooks act on. */
export const takesIdempotencyKey = (route: { method: string; path: string; hooks: unknown }) =>
  UNSAFE_METHODS.has(route.method) &&
  route.path.startsWith('/api/:user_id/') &&
  !NOT_REPLAYED.has(route.path) &&
  ((route.hooks as DeclaredHooks).detail?.security?.length ?? 0) > 0

const KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retry of this request apply once (IETF httpapi draft): for 24 hours by default (IDEMPOTENCY_KEY_TTL), the same key with the same request (method, path, query, body) gets the first answer again, with `Idempotent-Replayed: true`. Up to 255 printable ASCII characters, bare or as a quoted string (`"abc"`); scoped to the user. Answers of 500 and above are not kept.',
  schema: { type: 'string', minLength: 1 },
}
const REPLAYED_HEADER = {
  description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key',
  schema: { type: 'string', enum: ['true'] },
}
const RETRY_AFTER = { description: 'Seconds to wait before trying again', schema: { type: 'integer' } }

/**
 * Declares the key on every route that takes one, in the route table itself: the request
 * header, the 409 and 422 answers and the `Idempotent-Replayed` header. Called once every route
 * is registered and before the OpenAPI document is built from the table.
 */
export function declareIdempotency(app: AnyElysia): void {
  for (const route of app.routes) {
    if (!takesIdempotencyKey(route)) continue
    const hooks = route.hooks as DeclaredHooks
    const detail = hooks.detail ?? {}
    const given = detail.responses ?? {}
    const responses: Record<string, Json> = { ...given }
    for (const status of Object.keys(hooks.response ?? {}).filter((s) => Number(s) < 300)) {
      const before = given[status] ?? {}
      responses[status] = {
        ...before,
        headers: { ...(before.headers as Json), 'Idempotent-Replayed': REPLAYED_HEADER },
      }
    }
    const conflictToo = hooks.response && '409' in hooks.response
    responses[409] = {
      description: conflictToo
        ? 'Conflicts with an existing record, or the first request with this Idempotency-Key is still running (then with Retry-After)'
        : 'The first request with this Idempotency-Key is still running (with Retry-After)',
      headers: { 'Retry-After': RETRY_AFTER },
      ...given[409],
    }
    responses[422] = {
      description: 'This Idempotency-Key was used for a different request (method, path, query or body)',
      ...given[422],
    }
    // New objects: a response map or detail shared with another route stays as it was.
    hooks.response = { ...hooks.response, 409: 'Problem', 422: 'Problem' }
    hooks.detail = { ...detail, parameters: [...(detail.parameters ?? []), KEY_PARAMETER], responses }
  }
}
