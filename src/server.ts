import { createApp, TRANSPORT_BODY_LIMIT } from './app'
import type { Config } from './config'
import type { Database } from './db/client'
import { runMigrations } from './db/migrate'
import { openDatabase } from './db/open'
import { idleTimeoutFor, withDeadline } from './http/deadline'
import { withRoutableUrl } from './http/short-host'
import { startJobs } from './jobs'
import type { Logger } from './logger'
import { isEventStream } from './modules/events'

const SHUTDOWN_GRACE_MS = 10_000

export interface ServeOptions {
  /** Workers under a supervisor share the port, and leave migrations to the supervisor. */
  worker: boolean
}

interface Listening {
  app: ReturnType<typeof createApp>
  database: Database
  config: Config
  logger: Logger
}

/**
 * Serves `app` on a socket with every transport rule the binary has: body size, idle time
 * above the request deadline, the deadline itself, and short Host headers. Tests that need a
 * real socket listen through this too.
 */
export function listen(
  { app, database, config, logger }: Listening,
  { port, reusePort = false }: { port: number; reusePort?: boolean },
) {
  // Bun.serve directly rather than app.listen: every request must pass the deadline wrapper,
  // which Elysia's listen (routing through Bun's own router) would bypass.
  const answer = withDeadline(withRoutableUrl(app.fetch), config.requestTimeoutSeconds, logger, () =>
    database.resetIfStuck().then(
      (replaced) => replaced && logger.warn('connection pool replaced: it was not answering'),
      (err) => logger.error('connection pool reset failed', { err }),
    ),
  )
  const server = Bun.serve({
    port,
    reusePort,
    maxRequestBodySize: TRANSPORT_BODY_LIMIT,
    idleTimeout: idleTimeoutFor(config.requestTimeoutSeconds),
    // A request that outlives the deadline may wait on connections the database no longer
    // answers (a failover can leave them silent): the pool is checked, and replaced if stuck.
    fetch: (request, server) => {
      // An event stream is idle between events for longer than any idle timeout; its
      // keep-alive comments are what show the connection is alive.
      if (isEventStream(request)) server.timeout(request, 0)
      return answer(request, server)
    },
  })
  // Handlers read the client address through the app's server.
  app.server = server
  return server
}

/** Opens the database, migrates, listens, and stops gracefully on SIGTERM/SIGINT. */
export async function serve(config: Config, logger: Logger, { worker }: ServeOptions): Promise<void> {
  const database = await openDatabase(config, logger)
  if (!worker) await runMigrations(database, { logger, lockTimeoutSeconds: config.migrationLockTimeoutSeconds })
  const app = createApp({ config, database, logger })
  const server = listen({ app, database, config, logger }, { port: config.port, reusePort: worker })
  const stopJobs = startJobs(database.db, config, logger)
  logger.info('listening', {
    port: server.port,
    database: database.driver,
    pooler: database.pooler,
    pooler_reason: config.pooler.reason,
    pid: process.pid,
  })

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info('shutting down', { signal })
    const force = setTimeout(() => server.stop(true), SHUTDOWN_GRACE_MS)
    // Open event streams never finish by themselves; their clients reconnect elsewhere.
    app.decorator.eventStreams.closeAll()
    // Stops accepting at once and resolves when the requests in flight have been answered.
    await server.stop()
    clearTimeout(force)
    await stopJobs()
    await database.close()
    logger.info('stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
  if (worker) {
    // A worker whose supervisor died (even by SIGKILL) is re-parented; it drains and exits
    // rather than keep serving unsupervised.
    const supervisor = process.ppid
    setInterval(() => process.ppid !== supervisor && void shutdown('supervisor gone'), 1000).unref()
  }
}
