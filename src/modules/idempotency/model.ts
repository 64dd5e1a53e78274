import { createHash } from 'node:crypto'
import { validationFailed } from '../../http/problem'

/** The request header (IETF httpapi draft "The Idempotency-Key HTTP Header Field"). */
export const IDEMPOTENCY_KEY = 'idempotency-key'
/** On an answer that is a stored one, sent again. */
export const REPLAYED = 'idempotent-replayed'
/** The methods a key applies to: the ones a retry could apply twice. */
export const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/**
 * Routes whose answer carries a secret the server keeps only as a hash (the calendar feed key):
 * keeping the answer for a replay would store the secret in clear. They take no key.
 */
export const NOT_REPLAYED = new Set(['/api/:user_id/calendar/key'])
/** The headers of an answer that a replay repeats; the others (request id, quota) are the retry's own. */
export const KEPT_HEADERS = ['content-type', 'location', 'etag', 'link'] as const

const MAX_KEY_LENGTH = 255
const PRINTABLE = /^[\x20-\x7e]+$/
// An sf-string (RFC 9651): printable ASCII in quotes, with `\"` and `\\` the only escapes.
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/

const invalidKey = (message: string) =>
  validationFailed(`The Idempotency-Key header ${message}.`, [{ field: 'Idempotency-Key', message }])

/**
 * The key a header value names. The draft sends it as a structured-field string (`"abc"`);
 * many clients send it bare (`abc`): both name the key `abc`. Malformed is a 400.
 */
export function parseKey(value: string): string {
  const quoted = SF_STRING.exec(value)
  const key = quoted ? (quoted[1] as string).replace(/\\(["\\])/g, '$1') : value
  if (!quoted && value.startsWith('"')) throw invalidKey('is not a valid quoted string')
  if (key.length === 0) throw invalidKey('is empty')
  if (key.length > MAX_KEY_LENGTH) throw invalidKey(`is longer than ${MAX_KEY_LENGTH} characters`)
  if (!PRINTABLE.test(key)) throw invalidKey('may only contain printable ASCII characters')
  return key
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')

/**
 * What makes two requests "the same request" for a key: method, path (with `me` resolved to
 * the user, so `/api/me/...` and `/api/<id>/...` match), query string and the body's bytes.
 */
export function fingerprint(request: Request, userId: string, body: Uint8Array): string {
  const url = new URL(request.url)
  const segments = url.pathname.split('/')
  // `/api/{user_id}/...`: the user segment as the request was authenticated.
  if (segments[1] === 'api' && segments.length > 2) segments[2] = encodeURIComponent(userId)
  return sha256(JSON.stringify([request.method, segments.join('/'), url.search, sha256(body)]))
}
