import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { validationFailed } from '../../http/problem'

/** The last row of a page: its sort value (null for a task without one) and its id. */
export interface ListPosition {
  value: string | null
  id: number
}

interface CursorPayload {
  /** Digest of the query the cursor belongs to; a cursor is refused with any other. */
  q: string
  /** The sort value as base64url UTF-8, so no character costs more than four bytes. */
  v: string | null
  i: number
}

// A cursor must fit the contract's 2048 characters (and its Link the request line) whatever
// the query and the sort value: a query of 20 long tags, or a title of 255 characters that
// JSON escapes six bytes each, made the next page's cursor too long to be accepted. So the
// query goes in as a digest, and the value as base64 of its bytes (at most 4 × 255).
const digestOf = (query: string) => createHash('sha256').update(query).digest().subarray(0, 16).toString('base64url')

const invalidCursor = (why: string) => validationFailed(`The cursor ${why}.`, [{ field: 'cursor', message: why }])

/**
 * Opaque, signed pagination cursors: a client cannot forge a position, and a cursor from one
 * query cannot be replayed against another.
 */
export function createCursorCodec(secret: string) {
  const key = createHmac('sha256', secret).update('todo-api list cursor v3').digest()
  const sign = (data: string) => createHmac('sha256', key).update(data).digest().subarray(0, 16)

  return {
    encode(query: string, position: ListPosition): string {
      const v = position.value === null ? null : Buffer.from(position.value).toString('base64url')
      const payload: CursorPayload = { q: digestOf(query), v, i: position.id }
      const data = Buffer.from(JSON.stringify(payload)).toString('base64url')
      return `${data}.${sign(data).toString('base64url')}`
    },

    decode(cursor: string, query: string): ListPosition {
      const [data, mac, extra] = cursor.split('.')
      if (!data || !mac || extra !== undefined) throw invalidCursor('is malformed')
      const given = Buffer.from(mac, 'base64url')
      const expected = sign(data)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidCursor('is not valid')
      const payload = JSON.parse(Buffer.from(data, 'base64url').toString()) as CursorPayload
      if (payload.q !== digestOf(query)) throw invalidCursor('belongs to a different query')
      return { value: payload.v === null ? null : Buffer.from(payload.v, 'base64url').toString(), id: payload.i }
    },
  }
}

export type CursorCodec = ReturnType<typeof createCursorCodec>
