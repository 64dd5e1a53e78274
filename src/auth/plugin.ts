import { Elysia } from 'elysia'
import { forbidden, rateLimited, unauthorized } from '../http/problem'
import type { RateLimiter } from '../http/rate-limit'
import type { TokenClaims, TokenVerifier } from './token-verifier'

export interface AuthDeps {
  verifier: TokenVerifier
  provisionUser: (claims: TokenClaims) => Promise<void>
  limiter: RateLimiter
}

const BEARER = /^Bearer +([\w-]+\.[\w-]+\.[\w-]*) *$/i

/**
 * `{ auth: true }` on a route: a valid bearer token is required, a `{user_id}` path segment
 * must be the token's subject, and the handler receives `userId` (and `sessionId` for tokens
 * this API issued).
 *
 * The check runs in `transform`, before body and query validation, so a caller without a valid
 * token learns nothing about what the route would accept. Reading the body comes earlier still:
 * a body over the size limit (413), not JSON (415) or malformed (400) is refused first.
 */
export const authPlugin = ({ verifier, provisionUser, limiter }: AuthDeps) => {
  const authenticated = new WeakMap<Request, TokenClaims>()
  return new Elysia({ name: 'auth' }).macro({
    auth: {
      async transform({ request, params }) {
        const header = request.headers.get('authorization')
        if (!header) throw unauthorized('An Authorization: Bearer <token> header is required.')
        const token = BEARER.exec(header)?.[1]
        if (!token) throw unauthorized('The Authorization header must be "Bearer <token>".', 'invalid_token')
        const claims = await verifier.verify(token)
        const pathUser = (params as Record<string, string> | undefined)?.user_id
        // Elysia has already percent-decoded path parameters.
        if (pathUser !== undefined && pathUser !== claims.sub) throw forbidden('This token belongs to another user.')
        const retryAfter = limiter.take(claims.sub)
        if (retryAfter > 0) throw rateLimited(retryAfter)
        await provisionUser(claims)
        authenticated.set(request, claims)
      },
      resolve: ({ request }) => {
        const claims = authenticated.get(request) as TokenClaims
        return { userId: claims.sub, sessionId: claims.sid }
      },
    },
  })
}

export type AuthPlugin = ReturnType<typeof authPlugin>
