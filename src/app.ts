import { cors } from '@elysiajs/cors'
import { Elysia } from 'elysia'
import './schema/formats'
import { authPlugin } from './auth/plugin'
import { cachingVerifier } from './auth/token-cache'
import { createTokenVerifier, type TokenVerifier } from './auth/token-verifier'
import { createUserProvisioner } from './auth/users'
import type { Config } from './config'
import type { Database } from './db/client'
import { latestMigrationTime } from './db/migrate'
import { docs, documentOf } from './docs/openapi'
import { allowedMethods, routesWithBody } from './http/allowed-methods'
import { errorHandler } from './http/error-handler'
import { fieldSpelling } from './http/field-spelling'
import { jsonBody } from './http/json-body'
import { createRateLimiter } from './http/rate-limit'
import { requestContext } from './http/request-context'
import type { Logger } from './logger'
import { accountsModule } from './modules/accounts'
import { attemptRetentionSeconds, createAddressLimits } from './modules/accounts/address-limits'
import { createAttemptCounter } from './modules/accounts/attempt-counter'
import { createLoginThrottle } from './modules/accounts/login-throttle'
import { createPasswordHasher } from './modules/accounts/passwords'
import { batchModule } from './modules/batch'
import { calendarModule } from './modules/calendar'
import { eventsModule } from './modules/events'
import { redeemTicket } from './modules/events/service'
import { healthModule } from './modules/health'
import { declareIdempotency, idempotency } from './modules/idempotency'
import { listsModule } from './modules/lists'
import { quickAddModule } from './modules/quick-add'
import { remindersModule } from './modules/reminders'
import { syncModule } from './modules/sync'
import { tasksModule } from './modules/tasks'
import { createCursorCodec } from './modules/tasks/cursor'
import { trashModule } from './modules/trash'

export interface AppDeps {
  config: Config
  database: Database
  logger: Logger
  /** Defaults to one built from `config` (shared secret and JWKS). */
  tokenVerifier?: TokenVerifier
  /** The clock quick add reads "today" and "at 9am" by; tests set it. Defaults to the system clock. */
  now?: () => Date
}

/** What operators see of the issuer's key set: rotations, and fetches that failed while older keys served. */
const issuerKeyLogs = (logger: Logger) => ({
  onChange: (change: { added: string[]; removed: string[] }) => logger.info('issuer keys changed', change),
  onStaleUse: (err: unknown, ageMs: number) =>
    logger.warn('issuer keys could not be refreshed; using the ones fetched before', {
      err,
      age_seconds: Math.round(ageMs / 1000),
    }),
})

// Bun refuses bodies past this before the app sees them; the app's own, smaller limit
// (config.bodyLimitBytes) answers with a proper 413 problem below it.
export const TRANSPORT_BODY_LIMIT = 16 * 1024 * 1024

/** Builds the whole HTTP app from its dependencies; tests and `main` wire it the same way. */
export function createApp({ config, database, logger, tokenVerifier, now = () => new Date() }: AppDeps) {
  const { db } = database
  const attempts = createAttemptCounter(db, attemptRetentionSeconds(config.accounts))
  const auth = authPlugin({
    verifier: cachingVerifier(tokenVerifier ?? createTokenVerifier({ ...config, issuerKeys: issuerKeyLogs(logger) })),
    provisionUser: createUserProvisioner(db, { logger }),
    limiter: createRateLimiter(config.rateLimitPerMinute),
    redeemStreamTicket: (ticket) => redeemTicket(db, ticket),
  })
  // Read on the first 405 (or body), when every route below is registered.
  const allowed = allowedMethods(() => api.routes)
  const takesBody = routesWithBody(() => api.routes)
  const api = new Elysia({ normalize: false })
    .use(errorHandler(logger, allowed))
    .use(requestContext(logger))
    .use(
      cors({
        origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        allowedHeaders: [
          'Authorization',
          'Content-Type',
          'X-Request-Id',
          'Idempotency-Key',
          'If-Match',
          'If-None-Match',
          'Last-Event-ID',
        ],
        exposeHeaders: [
          'Location',
          'Link',
          'X-Request-Id',
          'Retry-After',
          'RateLimit',
          'RateLimit-Policy',
          'WWW-Authenticate',
          'Allow',
          'ETag',
          'Idempotent-Replayed',
        ],
        maxAge: 600,
        // Bearer tokens only: browsers never need to send cookies to this API.
        credentials: false,
      }),
    )
    .use(jsonBody(config.bodyLimitBytes, takesBody))
    .use(fieldSpelling())
    // Before every module: its hooks act on each unsafe /api/{user_id}/... route, present and future.
    .use(
      idempotency({
        db,
        logger,
        ttlSeconds: config.idempotencyKeyTtlSeconds,
        abandonAfterSeconds: config.requestTimeoutSeconds,
      }),
    )
    .use(healthModule({ db, latestMigration: latestMigrationTime(), pooler: database.pooler }))
    .use(
      accountsModule({
        db,
        auth,
        logger,
        secret: config.secret,
        config: config.accounts,
        passwords: createPasswordHasher(config.accounts.passwordHash, {
          maxWaitingHashes: config.accounts.maxWaitingHashes,
        }),
        throttle: createLoginThrottle(attempts, config.accounts),
        addressLimits: createAddressLimits(attempts, config.accounts),
      }),
    )
    .use(quickAddModule({ db, auth, logger, now }))
    .use(tasksModule({ db, auth, cursors: createCursorCodec(config.secret), logger }))
    .use(listsModule({ db, auth, logger }))
    .use(syncModule({ db, auth }))
    .use(batchModule({ db, auth, logger }))
    .use(trashModule({ db, auth, cursors: createCursorCodec(config.secret), logger }))
    .use(eventsModule({ database, auth, logger, heartbeatSeconds: config.events.heartbeatSeconds }))
    .use(
      calendarModule({
        db,
        auth,
        rateLimitPerMinute: config.rateLimitPerMinute,
        trustProxy: config.accounts.trustProxy,
      }),
    )
    .use(remindersModule({ db, auth, cursors: createCursorCodec(config.secret), logger }))
  declareIdempotency(api)
  // Last: the document describes the finished route table.
  return api.use(docs(documentOf(api)))
}

// Elysia's types give every validated route a 422 answer (its default validation error);
// this API answers 400 with a Problem instead and never sends a 422, so the client type drops it.
type WithoutDefaultValidationError<Routes> = {
  [K in keyof Routes]: Routes[K] extends { response: infer Response }
    ? Omit<Routes[K], 'response'> & { response: Omit<Response, 422> }
    : WithoutDefaultValidationError<Routes[K]>
}

/** The API's type, for an Eden Treaty client (`treaty<App>(url)`): every route, body and answer. */
export type App =
  ReturnType<typeof createApp> extends Elysia<infer P, infer S, infer D, infer M, infer R, infer E, infer V>
    ? Elysia<P, S, D, M, WithoutDefaultValidationError<R>, E, V>
    : never
