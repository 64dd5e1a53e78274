import type { Logger } from '../logger'

/** drizzle/0008_sync.sql notifies this channel, with the user's id, at each commit that changed a user's data. */
export const CHANGE_CHANNEL = 'todo_changes'
/** The reminder scheduler notifies this channel, with the user's id, when it fired reminders of that user. */
export const REMINDER_CHANNEL = 'todo_reminders'

/**
 * Whose feed may hold something new: one user, or `null` for every user (the listener has just
 * started or come back after its connection dropped, or a polling tick): notifications may have
 * been missed, so everyone looks again.
 */
export type ChangeHandler = (userId: string | null) => void

export interface ChangeListener {
  /** `listen`: notifications as they commit. `poll`: no LISTEN available, `null` every second. */
  readonly mode: 'listen' | 'poll'
  onChange(handler: ChangeHandler): () => void
  /**
   * Reminders of a user fired (REMINDER_CHANNEL); `null` in the same cases as `onChange`: any
   * user's may have, look again.
   */
  onReminder(handler: ChangeHandler): () => void
  close(): Promise<void>
}

/** How often streams look at the feed when no notification can reach them. */
export const POLL_INTERVAL_MS = 1000
// A notification sent through the pool must reach the listener within this, or LISTEN does not
// work on this path (a transaction pooler that accepts LISTEN and drops what it would deliver).
const PROBE_TIMEOUT_MS = 3000
// The payload of that probe: never a user id (ids are never empty).
const PROBE = ''

class Handlers {
  private readonly handlers = new Set<ChangeHandler>()
  add(handler: ChangeHandler) {
    this.handlers.add(handler)
    return () => void this.handlers.delete(handler)
  }
  emit(userId: string | null) {
    for (const handler of this.handlers) {
      try {
        handler(userId)
      } catch {}
    }
  }
}

/** Every `ms`, everyone looks at the feed (and at reminders). */
function poller(handlers: Handlers[], ms: number) {
  const timer = setInterval(() => {
    for (const h of handlers) h.emit(null)
  }, ms)
  return () => clearInterval(timer)
}

/** The embedded database: notifications stay in this process. */
export async function listenPglite(client: {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>
}): Promise<ChangeListener> {
  const handlers = new Handlers()
  const reminders = new Handlers()
  const unlisten = await client.listen(CHANGE_CHANNEL, (payload) => payload !== PROBE && handlers.emit(payload))
  const unlistenReminders = await client.listen(REMINDER_CHANNEL, (payload) => reminders.emit(payload))
  return {
    mode: 'listen',
    onChange: (handler) => handlers.add(handler),
    onReminder: (handler) => reminders.add(handler),
    close: async () => {
      await unlisten().catch(() => {})
      await unlistenReminders().catch(() => {})
    },
  }
}

export interface PostgresListenOptions {
  /** A URL that reaches PostgreSQL itself (or a session pooler); undefined: poll. */
  url: string | undefined
  ssl: unknown
  logger: Logger
  /** Why there is no URL to listen on, for the log. */
  why?: string
  /** Sends a notification through the app's pool: proves that LISTEN works end to end. */
  probe(): Promise<unknown>
  /** Polling interval when LISTEN is not available; POLL_INTERVAL_MS by default. */
  pollMs?: number
}

/**
 * One dedicated connection per process runs LISTEN. postgres.js reconnects it by itself and
 * runs LISTEN again, calling `onlisten` each time: each such call may follow a gap (the
 * connection was down), so every stream catches up from the feed then. While it is down, no
 * stream gets anything new; nothing is lost either, as the feed holds every change.
 */
export async function listenPostgres(options: PostgresListenOptions): Promise<ChangeListener> {
  const { logger } = options
  const handlers = new Handlers()
  const reminders = new Handlers()
  let mode: 'listen' | 'poll' = 'listen'
  let stopPolling: (() => void) | undefined
  const poll = (why: string, fields: Record<string, unknown> = {}) => {
    mode = 'poll'
    logger.warn(`live updates poll the change feed every second: ${why}`, fields)
    stopPolling = poller([handlers, reminders], options.pollMs ?? POLL_INTERVAL_MS)
  }
  if (options.url === undefined) {
    poll(options.why ?? 'no direct database URL to LISTEN on (set DATABASE_URL_DIRECT)')
    return {
      get mode() {
        return mode
      },
      onChange: (h) => handlers.add(h),
      onReminder: (h) => reminders.add(h),
      close: async () => stopPolling?.(),
    }
  }
  const { default: postgres } = await import('postgres')
  const sql = postgres(options.url, {
    ssl: options.ssl as never,
    max: 1,
    prepare: false,
    connect_timeout: 5,
    // A dead peer (no FIN, no RST) is noticed within about a minute by TCP keep-alive.
    keep_alive: 15,
    // One connection per process: after an outage it is back within a second of the database.
    backoff: () => 1,
    connection: { application_name: 'todo-api listener' },
    onnotice: () => {},
  })
  let probed: (() => void) | undefined
  let listens = 0
  const onNotify = (payload: string) => {
    if (payload === PROBE) return probed?.()
    handlers.emit(payload)
  }
  const onListen = () => {
    if (listens++ > 0) logger.info('change listener connected again: streams catch up from the feed')
    handlers.emit(null)
    reminders.emit(null)
  }
  let closed = false
  // The first LISTEN may fail (the database not up yet): try again until it works.
  const start = async (): Promise<void> => {
    while (!closed) {
      try {
        await sql.listen(CHANGE_CHANNEL, onNotify, onListen)
        await sql.listen(REMINDER_CHANNEL, (payload) => reminders.emit(payload))
        return
      } catch (err) {
        logger.warn('change listener could not LISTEN; trying again in a second', { err })
        await Bun.sleep(1000)
      }
    }
  }
  await start()
  // Proves delivery in the background; until it fails, notifications are trusted.
  void (async () => {
    const arrived = new Promise<boolean>((resolve) => {
      probed = () => resolve(true)
    })
    await options.probe().catch(() => {})
    const ok = await Promise.race([arrived, Bun.sleep(PROBE_TIMEOUT_MS).then(() => false)])
    probed = undefined
    if (!ok && !closed) {
      poll('a notification sent through the pool never reached the listener (is DATABASE_URL_DIRECT a pooler?)')
      void sql.end({ timeout: 0 })
    }
  })()
  return {
    get mode() {
      return mode
    },
    onChange: (handler) => handlers.add(handler),
    onReminder: (handler) => reminders.add(handler),
    async close() {
      closed = true
      stopPolling?.()
      await sql.end({ timeout: 1 })
    },
  }
}

/**
 * Where LISTEN can go: DATABASE_URL_DIRECT; else DATABASE_URL when it reaches PostgreSQL or a
 * session pooler; else, for Neon's pooled host (`ep-x-pooler.region...`), the same host without
 * `-pooler`, which is Neon's direct endpoint. Undefined: only polling is left.
 */
export function listenUrl(
  rawUrl: string,
  sessionUrl: string | undefined,
  sessionPoolerMode: string,
): string | undefined {
  if (sessionPoolerMode !== 'transaction') return sessionUrl ?? rawUrl
  const url = new URL(sessionUrl ?? rawUrl)
  if (/\.neon\.tech$/i.test(url.hostname) && url.hostname.includes('-pooler.')) {
    url.hostname = url.hostname.replace('-pooler.', '.')
    return url.toString()
  }
  return undefined
}
