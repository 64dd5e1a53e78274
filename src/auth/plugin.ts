import { Elysia } from 'elysia'
import { forbidden, rateLimited, unauthorized } from '../http/problem'
import type { RateLimiter } from '../http/rate-limit'
import { quotaHeaders } from '../http/rate-limit-headers'
import type { TokenClaims, TokenVerifier } from './token-verifier'

export interface AuthDeps {
  verifier: TokenVerifier
  provisionUser: (claims: TokenClaims) => Promise<void>
  limiter: RateLimiter
  /**
   * The user a stream ticket was issued to, using it up; undefined when it is unknown, used or
   * expired. Only routes with `streamAuth` ever call it.
   */
  redeemStreamTicket?: (ticket: string) => Promise<string | undefined>
}

const BEARER = /^Bearer +(\S+) *$/i
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/
// 32 random bytes in base64url, as POST /api/auth/stream-ticket makes them.
const TICKET_SHAPE = /^[\w-]{43}$/
// Better Auth's session token (its cookie's value, or what its bearer plugin hands out) is the
// likeliest thing to end up here by mistake.
const NOT_A_JWT =
  'The bearer token is not a JWT this API accepts: send an access token from /api/auth/login, or from Better Auth the JWT of its JWT plugin (GET /api/auth/token, or the set-auth-jwt header), not a session token.'
/** In the `{user_id}` position: the token's subject, whoever that is. */
export const ME = 'me'

// Requests to a `/api/{user_id}/...` route that passed the check, with that user's id: what
// request-wide hooks (idempotency keys) scope their work by.
const owners = new WeakMap<Request, string>()

/** The user a `{user_id}` route's request was authenticated as; undefined on every other request. */
export const pathOwnerOf = (request: Request): string | undefined => owners.get(request)

/**
 * `{ auth: true }` on a route: a valid bearer token is required, a `{user_id}` path segment
 * must be the token's subject or `me`, and the handler receives `userId` (and `sessionId` for
 * tokens this API issued). `me` is replaced by the subject here, so handlers only ever see real
 * ids. A user whose id is literally "me" loses nothing: `me` names the caller either way.
 *
 * The check runs in `transform`, before body and query validation, so a caller without a valid
 * token learns nothing about what the route would accept. Reading the body comes earlier still:
 * a body over the size limit (413), not JSON (415) or malformed (400) is refused first.
 */
export const authPlugin = ({ verifier, provisionUser, limiter, redeemStreamTicket }: AuthDeps) => {
  const authenticated = new WeakMap<Request, TokenClaims>()
  type Context = { request: Request; params: unknown; set: { headers: Record<string, unknown> } }

  /** The `{user_id}` rule and the per-user limiter, for whichever credential named the user. */
  function admit(claims: TokenClaims, { request, params, set }: Context) {
    const path = params as Record<string, string> | undefined
    // Elysia has already percent-decoded path parameters.
    if (path?.user_id === ME) path.user_id = claims.sub
    else if (path?.user_id !== undefined && path.user_id !== claims.sub)
      throw forbidden('This token belongs to another user.')
    const decision = limiter.take(claims.sub)
    if (decision) {
      quotaHeaders(set.headers as never)(decision.quota)
      if (decision.retryAfter > 0) throw rateLimited(decision.retryAfter)
    }
    authenticated.set(request, claims)
    if (path?.user_id !== undefined) owners.set(request, claims.sub)
  }

  async function bearer(context: Context) {
    const header = context.request.headers.get('authorization')
    if (!header) throw unauthorized('An Authorization: Bearer <token> header is required.')
    const token = BEARER.exec(header)?.[1]
    if (!token) throw unauthorized('The Authorization header must be "Bearer <token>".', 'invalid_token')
    if (!JWT_SHAPE.test(token)) throw unauthorized(NOT_A_JWT, 'invalid_token')
    const claims = await verifier.verify(token)
    admit(claims, context)
    await provisionUser(claims)
  }

  const resolve = ({ request }: { request: Request }) => {
    const claims = authenticated.get(request) as TokenClaims
    return { userId: claims.sub, sessionId: claims.sid }
  }

  return new Elysia({ name: 'auth' }).macro({
    auth: { transform: bearer, resolve },
    /**
     * `auth`, or instead a stream ticket in `?ticket=` (browsers' EventSource cannot send
     * Authorization). Only the events route has it: a ticket opens nothing else.
     */
    streamAuth: {
      async transform(context) {
        const ticket = new URL(context.request.url).searchParams.get('ticket')
        // A malformed ticket is no ticket: the query's validation names it (400).
        if (ticket === null || !TICKET_SHAPE.test(ticket) || !redeemStreamTicket) return bearer(context)
        const userId = await redeemStreamTicket(ticket)
        if (userId === undefined)
          throw unauthorized(
            'This stream ticket is unknown, already used or expired: get a new one from POST /api/auth/stream-ticket.',
            'invalid_token',
          )
        // The ticket's user exists: it was signed in to get it.
        admit({ sub: userId } as TokenClaims, context)
      },
      resolve,
    },
  })
}

export type AuthPlugin = ReturnType<typeof authPlugin>
