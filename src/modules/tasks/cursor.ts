import { createHmac, timingSafeEqual } from 'node:crypto'
import { validationFailed } from '../../http/problem'

/** The last row of a page: its sort value (null for a task without one) and its id. */
export interface ListPosition {
  value: string | null
  id: number
}

interface CursorPayload {
  /** The query the cursor belongs to; a cursor is refused with any other. */
  q: string
  v: string | null
  i: number
}

const invalidCursor = (why: string) => validationFailed(`The cursor ${why}.`, [{ field: 'cursor', message: why }])

/**
 * Opaque, signed pagination cursors: a client cannot forge a position, and a cursor from one
 * query cannot be replayed against another.
 */
export function createCursorCodec(secret: string) {
  const key = createHmac('sha256', secret).update('todo-api list cursor v2').digest()
  const sign = (data: string) => createHmac('sha256', key).update(data).digest().subarray(0, 16)

  return {
    encode(query: string, position: ListPosition): string {
      const payload: CursorPayload = { q: query, v: position.value, i: position.id }
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
      if (payload.q !== query) throw invalidCursor('belongs to a different query')
      return { value: payload.v, id: payload.i }
    },
  }
}

export type CursorCodec = ReturnType<typeof createCursorCodec>
