import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import { clientAddress } from '../../http/client-address'
import { authErrors, bodyErrors, ProblemSchema } from '../../http/problem-schema'
import type { Logger } from '../../logger'
import { LoginBody, PasswordBody, RefreshBody, RegisterBody, SessionSchema, UpdateMeBody, UserSchema } from './model'
import * as service from './service'

export interface AccountsModuleDeps extends service.AccountsDeps {
  auth: AuthPlugin
  logger: Logger
}

const tags = ['auth']
const security = [{ bearer: [] }]
const unauthorizedError = { 401: authErrors[401] }
const noBody = (description: string) => t.Void({ description })

export const accountsModule = (deps: AccountsModuleDeps) => {
  const { db, auth, logger } = deps
  return new Elysia({ name: 'accounts', prefix: '/api/auth' })
    .use(auth)
    .post(
      '/register',
      async ({ body, status }) => {
        const session = await service.register(deps, body)
        logger.info('user registered', { user_id: session.user.id })
        return status(201, session)
      },
      {
        parse: 'json',
        body: RegisterBody,
        response: { 201: SessionSchema, ...bodyErrors, 409: ProblemSchema },
        detail: { summary: 'Create an account and sign in', tags },
      },
    )
    .post(
      '/login',
      async ({ body, request, server }) => {
        const address = clientAddress(request, server, deps.config.trustProxy)
        const session = await service.login(deps, { ...body, address })
        logger.info('user signed in', { user_id: session.user.id })
        return session
      },
      {
        parse: 'json',
        body: LoginBody,
        response: { 200: SessionSchema, ...bodyErrors, ...unauthorizedError, 429: authErrors[429] },
        detail: {
          summary: 'Sign in with email and password',
          description:
            'After too many failed attempts for one email (default 10 in 15 minutes) this answers 429 with Retry-After, even with the right password, until the window passes.',
          tags,
        },
      },
    )
    .post('/refresh', ({ body }) => service.refresh(deps, body.refresh_token), {
      parse: 'json',
      body: RefreshBody,
      response: { 200: SessionSchema, ...bodyErrors, ...unauthorizedError },
      detail: {
        summary: 'Exchange a refresh token for a new access token and refresh token',
        description:
          'Refresh tokens are single use. Presenting one that was already exchanged signs out that whole session (theft detection).',
        tags,
      },
    })
    .post(
      '/logout',
      async ({ body, userId, status }) => {
        await service.logout(db, userId, body.refresh_token)
        return status(204, undefined)
      },
      {
        auth: true,
        parse: 'json',
        body: RefreshBody,
        response: { 204: noBody('Signed out of that session'), ...bodyErrors, ...authErrors },
        detail: { summary: 'Sign out of one session', tags, security },
      },
    )
    .post(
      '/logout-all',
      async ({ userId, status }) => {
        await service.logoutAll(db, userId)
        return status(204, undefined)
      },
      {
        auth: true,
        response: { 204: noBody('Signed out everywhere'), ...authErrors },
        detail: { summary: 'Sign out of every session', tags, security },
      },
    )
    .get('/me', ({ userId }) => service.getUser(db, userId), {
      auth: true,
      response: { 200: UserSchema, ...authErrors },
      detail: { summary: 'The signed-in user', tags, security },
    })
    .patch('/me', ({ userId, body }) => service.rename(db, userId, body.name), {
      auth: true,
      parse: 'json',
      body: UpdateMeBody,
      response: { 200: UserSchema, ...bodyErrors, ...authErrors },
      detail: { summary: 'Change your name', tags, security },
    })
    .post(
      '/password',
      async ({ userId, sessionId, body, status }) => {
        await service.changePassword(deps, { id: userId, sessionId }, body)
        logger.info('password changed', { user_id: userId })
        return status(204, undefined)
      },
      {
        auth: true,
        parse: 'json',
        body: PasswordBody,
        response: { 204: noBody('Password changed; every other session is signed out'), ...bodyErrors, ...authErrors },
        detail: {
          summary: 'Change (or set a first) password',
          description:
            'Signs out every other session. An account created from an external token has no password yet and sets one without current_password.',
          tags,
          security,
        },
      },
    )
}
