import { inArray } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { users } from '../../db/schema'
import type { Logger } from '../../logger'
import { recentlyFired, toReminder } from '../reminders/service'
import { toChange } from '../sync/model'
import { EXPIRED, readChanges } from '../sync/service'

/** Open streams one user may hold on one instance; the next is refused with 429. */
export const MAX_STREAMS_PER_USER = 10
const PAGE = 500
// Events a client has not read yet, per stream, before the stream is closed: a client that
// stopped reading must not make the server hold its changes without end. It reconnects with
// Last-Event-ID and loses nothing.
const MAX_QUEUED_CHUNKS = 1000
// After a failed feed read (the database away), the stream tries again this much later.
const RETRY_MS = 1000
// Users whose counters one query reads when every stream must look again.
const COUNTER_BATCH = 1000
/**
 * A stream sends the reminders fired this recently and not acknowledged, each firing once:
 * the ones fired while it was opening or reconnecting (a notification may have been missed)
 * arrive too. Longer than any delay between a firing and its notification or poll.
 */
export const REMINDER_WINDOW_SECONDS = 60

const encoder = new TextEncoder()

export interface Stream {
  readonly userId: string
  /** The feed token everything up to which this stream has sent. */
  sent: number
  /** A feed read is under way; `again` asks for one more after it. */
  reading: boolean
  again: boolean
  closed: boolean
  controller?: ReadableStreamDefaultController<Uint8Array>
  /** The reminder firings this stream has sent (`id@fired_at`), with when each fired. */
  reminders?: Map<string, number>
}

const changeEvent = (change: Parameters<typeof toChange>[0]) =>
  `event: change\nid: ${change.seq}\ndata: ${JSON.stringify(toChange(change))}\n\n`

/**
 * The event streams open on this instance, by user. A notification for a user makes each of
 * that user's streams read the feed from the last token it sent: one read per stream at a
 * time, and a notification during a read makes exactly one more. Idle streams cost a small
 * object and a ReadableStream each; one timer writes every stream's keep-alive comment.
 */
export function createEventHub({
  database,
  logger,
  heartbeatMs,
}: {
  database: Database
  logger: Logger
  heartbeatMs: number
}) {
  const { db } = database
  const byUser = new Map<string, Set<Stream>>()
  let heartbeat: Timer | undefined
  let listening: Promise<unknown> | undefined

  function write(stream: Stream, text: string) {
    const controller = stream.controller
    if (stream.closed || !controller) return
    if ((controller.desiredSize ?? 0) < -MAX_QUEUED_CHUNKS) return close(stream)
    try {
      controller.enqueue(encoder.encode(text))
    } catch {
      close(stream)
    }
  }

  function close(stream: Stream) {
    if (stream.closed) return
    stream.closed = true
    try {
      stream.controller?.close()
    } catch {}
    const streams = byUser.get(stream.userId)
    streams?.delete(stream)
    if (streams?.size === 0) byUser.delete(stream.userId)
    if (byUser.size === 0 && heartbeat) {
      clearInterval(heartbeat)
      heartbeat = undefined
    }
  }

  /** Sends what the feed holds after `stream.sent`; coalesces with a read under way. */
  async function catchUp(stream: Stream): Promise<void> {
    if (stream.closed) return
    if (stream.reading) {
      stream.again = true
      return
    }
    stream.reading = true
    try {
      do {
        stream.again = false
        for (;;) {
          const page = await readChanges(db, stream.userId, stream.sent, PAGE)
          if (stream.closed) return
          if (page === EXPIRED) {
            // Only a stream idle past TOMBSTONE_RETENTION can meet this.
            write(stream, 'event: reset\ndata: {"reason":"sync_token_expired"}\n\n')
            return close(stream)
          }
          if (page.changes.length > 0) write(stream, page.changes.map(changeEvent).join(''))
          stream.sent = page.next
          if (!page.hasMore) break
        }
      } while (stream.again && !stream.closed)
    } catch (err) {
      logger.warn('event stream could not read the change feed; trying again', { err, user_id: stream.userId })
      setTimeout(() => void catchUp(stream), RETRY_MS).unref()
    } finally {
      stream.reading = false
    }
  }

  /** Every stream whose user's counter moved past what it sent reads the feed. */
  async function catchUpAll(): Promise<void> {
    const ids = [...byUser.keys()]
    for (let i = 0; i < ids.length; i += COUNTER_BATCH) {
      const batch = ids.slice(i, i + COUNTER_BATCH)
      const counters = await db
        .select({ id: users.id, seq: users.syncSeq })
        .from(users)
        .where(inArray(users.id, batch))
        .catch((err) => {
          logger.warn('event streams could not read change counters', { err })
          return []
        })
      for (const { id, seq } of counters)
        for (const stream of byUser.get(id) ?? []) if (seq > stream.sent || stream.again) void catchUp(stream)
    }
  }

  function onChange(userId: string | null) {
    if (userId === null) return void catchUpAll()
    for (const stream of byUser.get(userId) ?? []) void catchUp(stream)
  }

  /**
   * Sends the reminders these users' streams have not sent yet (`event: reminder`, no `id`:
   * they are not changes of the feed, and Last-Event-ID must stay a sync token).
   */
  async function sendReminders(userIds: string[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += COUNTER_BATCH) {
      const batch = userIds.slice(i, i + COUNTER_BATCH)
      const fired = await recentlyFired(db, batch, REMINDER_WINDOW_SECONDS).catch((err) => {
        logger.warn('event streams could not read fired reminders', { err })
        return []
      })
      const oldest = Date.now() - 2 * REMINDER_WINDOW_SECONDS * 1000
      for (const row of fired) {
        const key = `${row.id}@${row.firedAt?.getTime()}`
        for (const stream of byUser.get(row.userId) ?? []) {
          // Not started yet: its start sends them.
          if (!stream.controller) continue
          stream.reminders ??= new Map()
          if (stream.reminders.has(key)) continue
          stream.reminders.set(key, row.firedAt?.getTime() ?? 0)
          write(stream, `event: reminder\ndata: ${JSON.stringify(toReminder(row))}\n\n`)
        }
      }
      for (const id of batch)
        for (const stream of byUser.get(id) ?? [])
          for (const [key, at] of stream.reminders ?? []) if (at < oldest) stream.reminders?.delete(key)
    }
  }

  function onReminder(userId: string | null) {
    const ids = userId === null ? [...byUser.keys()] : byUser.has(userId) ? [userId] : []
    if (ids.length > 0) void sendReminders(ids)
  }

  function listen() {
    listening ??= database
      .changes()
      .then((listener) => {
        listener.onChange(onChange)
        listener.onReminder(onReminder)
        // Streams opened while the listener was starting may have missed a notification.
        void catchUpAll()
        onReminder(null)
      })
      .catch((err) => {
        listening = undefined
        logger.error('change listener failed to start; live streams poll on their next open', { err })
      })
    return listening
  }

  return {
    /** Open streams of a user on this instance. */
    count: (userId: string) => byUser.get(userId)?.size ?? 0,
    /**
     * Registers a stream before its first read, so that a change committed meanwhile is not
     * missed: its notification finds the stream reading and asks for one more read.
     */
    register(userId: string): Stream {
      void listen()
      const stream: Stream = { userId, sent: 0, reading: true, again: false, closed: false }
      const streams = byUser.get(userId) ?? new Set()
      byUser.set(userId, streams.add(stream))
      heartbeat ??= setInterval(() => {
        for (const streams of byUser.values()) for (const s of streams) write(s, ': keep-alive\n\n')
      }, heartbeatMs)
      heartbeat.unref()
      return stream
    },
    /** The stream's body: `first` (already read), then whatever the feed brings. */
    body(stream: Stream, first: string): ReadableStream<Uint8Array> {
      // Dropped once sent: the first page can be large, and the closure lives as long as the stream.
      let initial: string | undefined = first
      return new ReadableStream<Uint8Array>(
        {
          start(controller) {
            stream.controller = controller
            controller.enqueue(encoder.encode(initial))
            initial = undefined
            stream.reading = false
            if (stream.again) void catchUp(stream)
            void sendReminders([stream.userId])
          },
          cancel: () => close(stream),
        },
        { highWaterMark: 0 },
      )
    },
    /** Formats events for a page read before the stream existed. */
    events: (changes: Parameters<typeof toChange>[0][]) => changes.map(changeEvent).join(''),
    close,
    catchUp,
    /** Ends every stream: a server shutting down should not wait for them. */
    closeAll() {
      for (const streams of [...byUser.values()]) for (const s of [...streams]) close(s)
    },
    ready: listen,
  }
}

export type EventHub = ReturnType<typeof createEventHub>
