import { expect } from 'bun:test'
import type { RequestOptions, TestApp } from './app'
import { stopAfterTest } from './cleanup'

/** One block of a Server-Sent Events stream: an event, or a comment line. */
export interface SseMessage {
  event?: string
  id?: string
  data?: string
  retry?: string
  comment?: string
}

export interface EventStream {
  response: Response
  /** The next message (comments included), or an error after `ms`. */
  next(ms?: number): Promise<SseMessage>
  /** The next `event:` message, skipping comments. */
  nextEvent(ms?: number): Promise<SseMessage>
  /** Every event that arrives within `ms` (comments skipped). */
  eventsWithin(ms: number): Promise<SseMessage[]>
  close(): Promise<void>
}

function parse(block: string): SseMessage {
  const message: SseMessage = {}
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) message.comment = line.slice(1).trim()
    else {
      const colon = line.indexOf(':')
      const field = line.slice(0, colon) as 'event' | 'id' | 'data' | 'retry'
      const value = line.slice(colon + 1).replace(/^ /, '')
      message[field] = field === 'data' && message.data !== undefined ? `${message.data}\n${value}` : value
    }
  }
  return message
}

/** Opens `path` as an event stream, as a client would, and reads it message by message. */
export async function openEvents(api: TestApp, path: string, options: RequestOptions = {}): Promise<EventStream> {
  const response = await api.request('GET', path, {
    ...options,
    headers: { accept: 'text/event-stream', ...options.headers },
  })
  const reader = response.body?.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  const queue: SseMessage[] = []
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await reader?.cancel().catch(() => {})
  }
  stopAfterTest(close)
  let pending: ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> | undefined
  async function next(ms = 5000): Promise<SseMessage> {
    const deadline = Date.now() + ms
    while (queue.length === 0) {
      if (!reader) throw new Error(`no stream: ${response.status}`)
      pending ??= reader.read()
      const left = deadline - Date.now()
      const read = await Promise.race([pending, Bun.sleep(Math.max(left, 0)).then(() => undefined)])
      if (read === undefined) throw new Error(`no message within ${ms} ms`)
      pending = undefined
      if (read.done) throw new Error('the stream ended')
      buffered += decoder.decode(read.value, { stream: true })
      const blocks = buffered.split('\n\n')
      buffered = blocks.pop() ?? ''
      queue.push(...blocks.filter(Boolean).map(parse))
    }
    return queue.shift() as SseMessage
  }
  async function nextEvent(ms = 5000): Promise<SseMessage> {
    const deadline = Date.now() + ms
    for (;;) {
      const message = await next(Math.max(deadline - Date.now(), 1))
      if (message.event !== undefined) return message
    }
  }
  return {
    response,
    next,
    nextEvent,
    async eventsWithin(ms) {
      const events: SseMessage[] = []
      const deadline = Date.now() + ms
      for (;;) {
        try {
          events.push(await nextEvent(Math.max(deadline - Date.now(), 1)))
        } catch (error) {
          if (String(error).includes('no message within')) return events
          throw error
        }
      }
    },
    close,
  }
}

/** The change an event carries. */
export function changeOf(message: SseMessage) {
  expect(message.event).toBe('change')
  return JSON.parse(message.data as string) as {
    type: 'task' | 'list'
    op: 'upsert' | 'delete'
    id: number
    seq: number
    task?: { id: number; title: string; version: number }
    list?: { id: number; name: string }
    reason?: string
  }
}
