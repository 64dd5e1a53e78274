import { inArray } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { users } from '../../db/schema'
import type { Logger } from '../../logger'
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

  function listen() {
    listening ??= database
      .changes()
      .then((listener) => {
        listener.onChange(onChange)
        // Streams opened while the listener was starting may have missed a notification.
        void catchUpAll()
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
