import { cors } from '@elysiajs/cors'
import { Elysia } from 'elysia'
import './http/formats'
import { authPlugin } from './auth/plugin'
import { cachingVerifier } from './auth/token-cache'
import { createTokenVerifier, type TokenVerifier } from './auth/token-verifier'
import { createUserProvisioner } from './auth/users'
import type { Config } from './config'
import type { Database } from './db/client'
import { latestMigrationTime } from './db/migrate'
import { docs } from './docs/openapi'
import { errorHandler } from './http/error-handler'
import { jsonBody } from './http/json-body'
import { createRateLimiter } from './http/rate-limit'
import { requestContext } from './http/request-context'
import type { Logger } from './logger'
import { accountsModule } from './modules/accounts'
import { createLoginThrottle } from './modules/accounts/login-throttle'
import { createPasswordHasher } from './modules/accounts/passwords'
import { healthModule } from './modules/health'
import { tasksModule } from './modules/tasks'
import { createCursorCodec } from './modules/tasks/cursor'

export interface AppDeps {
  config: Config
  database: Database
  logger: Logger
  /** Defaults to one built from `config` (shared secret and JWKS). */
  tokenVerifier?: TokenVerifier
}

// Bun refuses bodies past this before the app sees them; the app's own, smaller limit
// (config.bodyLimitBytes) answers with a proper 413 problem below it.
export const TRANSPORT_BODY_LIMIT = 16 * 1024 * 1024

/** Builds the whole HTTP app from its dependencies; tests and `main` wire it the same way. */
export function createApp({ config, database, logger, tokenVerifier }: AppDeps) {
  const { db } = database
  const auth = authPlugin({
    verifier: cachingVerifier(tokenVerifier ?? createTokenVerifier(config)),
    provisionUser: createUserProvisioner(db),
    limiter: createRateLimiter(config.rateLimitPerMinute),
  })
  return new Elysia({ normalize: false })
    .use(errorHandler(logger))
    .use(requestContext(logger))
    .use(
      cors({
        origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
        exposeHeaders: ['Location', 'Link', 'X-Request-Id', 'Retry-After', 'WWW-Authenticate'],
        maxAge: 600,
        // Bearer tokens only: browsers never need to send cookies to this API.
        credentials: false,
      }),
    )
    .use(docs())
    .use(jsonBody(config.bodyLimitBytes))
    .use(healthModule({ db, latestMigration: latestMigrationTime() }))
    .use(
      accountsModule({
        db,
        auth,
        logger,
        secret: config.secret,
        config: config.accounts,
        passwords: createPasswordHasher(config.accounts.passwordHash),
        throttle: createLoginThrottle(db, config.accounts),
      }),
    )
    .use(tasksModule({ db, auth, cursors: createCursorCodec(config.secret), logger }))
}
