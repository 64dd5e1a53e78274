import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import { clientAddress } from '../../http/client-address'
import { EMPTY_BODY } from '../../http/json-body'
import { quotaHeaders } from '../../http/rate-limit-headers'
import { requestLogger } from '../../http/request-context'
import type { Logger } from '../../logger'
import { models } from '../../schema/models'
import { NoContent, problems } from '../../schema/problem'
import * as service from './service'

export interface AccountsModuleDeps extends service.AccountsDeps {
  auth: AuthPlugin
  logger: Logger
}

const tags = ['auth']
const security = [{ bearer: [] }]

// Every account route can meet a limit (429) and a database that is down (503); a body can be
// invalid (400), too large (413) or not JSON (415); a token can be missing or bad (401).
const signedIn = [401, 429, 503] as const
const withBody = [400, 413, 415] as const

export const accountsModule = (deps: AccountsModuleDeps) => {
  const { db, auth, logger } = deps
  return new Elysia({ name: 'accounts', prefix: '/api/auth' })
    .use(models)
    .use(auth)
    .post(
      '/register',
      async ({ body, request, server, set, status }) => {
        const address = clientAddress(request, server, deps.config.trustProxy)
        const session = await service.register(deps, { ...body, address }, quotaHeaders(set.headers))
        requestLogger(logger, request).info('user registered', { user_id: session.user.id })
        return status(201, session)
      },
      {
        parse: 'json',
        body: 'Register',
        response: { 201: 'Session', ...problems(...withBody, 409, 429, 503) },
        detail: {
          operationId: 'register',
          summary: 'Create an account and sign in',
          description:
            'Past the sign-ups allowed per client address (default 20 an hour) this answers 429 with Retry-After. When too many sign-ups already wait for password hashing it answers 503 with Retry-After.',
          tags,
        },
      },
    )
    .post(
      '/login',
      async ({ body, request, server, set }) => {
        const address = clientAddress(request, server, deps.config.trustProxy)
        const session = await service.login(deps, { ...body, address }, quotaHeaders(set.headers))
        requestLogger(logger, request).info('user signed in', { user_id: session.user.id })
        return session
      },
      {
        parse: 'json',
        body: 'Login',
        response: { 200: 'Session', ...problems(...withBody, ...signedIn) },
        detail: {
          operationId: 'login',
          summary: 'Sign in with email and password',
          description:
            'After too many failed attempts for one email (default 10 in 15 minutes) this answers 429 with Retry-After, even with the right password, until the window passes.',
          tags,
        },
      },
    )
    .post(
      '/refresh',
      ({ body, request, server, set }) =>
        service.refresh(
          deps,
          body.refresh_token,
          clientAddress(request, server, deps.config.trustProxy),
          quotaHeaders(set.headers),
          // A refresh token used again after its grace period: someone else may hold a copy.
          ({ userId, sessionId }) =>
            requestLogger(logger, request).warn('refresh token reused: session signed out', {
              user_id: userId,
              session_id: sessionId,
            }),
        ),
      {
        parse: 'json',
        body: 'Refresh',
        response: { 200: 'Session', ...problems(...withBody, ...signedIn) },
        detail: {
          operationId: 'refresh',
          summary: 'Exchange a refresh token for a new access token and refresh token',
          description:
            "Refresh tokens are single use. Presenting one again within REFRESH_REUSE_GRACE (default 30 s) of its exchange (two tabs refreshing at once) answers the session's newest refresh token, the same for every such request; presenting it later signs out that whole session (theft detection). Past the refreshes allowed per client address (default 600 in 15 minutes) this answers 429 with Retry-After, and the token is left as it was.",
          tags,
        },
      },
    )
    .post(
      '/logout',
      async ({ body, userId, sessionId, request, status }) => {
        await service.logout(db, { id: userId, sessionId }, body.refresh_token)
        requestLogger(logger, request).info('user signed out', { user_id: userId })
        return status(204, undefined)
      },
      {
        auth: true,
        transform(context) {
          if ((context.body as unknown) === EMPTY_BODY) context.body = {}
        },
        parse: 'json',
        body: 'Logout',
        response: { 204: NoContent, ...problems(...withBody, ...signedIn) },
        detail: {
          operationId: 'logout',
          summary: 'Sign out of one session',
          description:
            'With no body (or `{}`) it signs out the session the access token was issued for; with `{"refresh_token"}`, the session of that refresh token. For a token from elsewhere (Better Auth), which names no session of this API, it does nothing and answers 204. The access token itself stays valid until it expires.',
          tags,
          security,
          responses: { 204: { description: 'Signed out of that session' } },
        },
      },
    )
    .post(
      '/logout-all',
      async ({ userId, request, status }) => {
        await service.logoutAll(db, userId)
        requestLogger(logger, request).info('user signed out everywhere', { user_id: userId })
        return status(204, undefined)
      },
      {
        auth: true,
        response: { 204: NoContent, ...problems(...signedIn) },
        detail: {
          operationId: 'logoutAll',
          summary: 'Sign out of every session',
          tags,
          security,
          responses: { 204: { description: 'Signed out everywhere' } },
        },
      },
    )
    .get('/me', ({ userId }) => service.getUser(db, userId), {
      auth: true,
      response: { 200: 'User', ...problems(...signedIn) },
      detail: { operationId: 'getMe', summary: 'The signed-in user', tags, security },
    })
    .patch('/me', ({ userId, body }) => service.rename(db, userId, body.name), {
      auth: true,
      parse: 'json',
      body: 'UpdateMe',
      response: { 200: 'User', ...problems(...withBody, ...signedIn) },
      detail: { operationId: 'updateMe', summary: 'Change your name', tags, security },
    })
    .post(
      '/password',
      async ({ userId, sessionId, body, request, set, status }) => {
        await service.changePassword(deps, { id: userId, sessionId }, body, quotaHeaders(set.headers))
        requestLogger(logger, request).info('password changed', { user_id: userId })
        return status(204, undefined)
      },
      {
        auth: true,
        parse: 'json',
        body: 'ChangePassword',
        response: { 204: NoContent, ...problems(...withBody, 409, ...signedIn) },
        detail: {
          operationId: 'changePassword',
          responses: { 204: { description: 'Password changed; every other session is signed out' } },
          summary: 'Change (or set a first) password',
          description:
            "Signs out every other session. An account created from an external token has no password yet and sets one without current_password; that answers 409 when another account already signs in with the account's email address.",
          tags,
          security,
        },
      },
    )
}
