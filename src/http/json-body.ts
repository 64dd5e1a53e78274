import { Elysia } from 'elysia'
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth'
import { ProblemError, validationFailed } from './problem'

const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i

const tooLarge = (limit: number) =>
  new ProblemError(413, 'payload_too_large', `The request body is larger than ${limit} bytes.`)

/** Reads at most `limit` bytes, so a chunked upload with no Content-Length is cut off early. */
async function readLimited(request: Request, limit: number): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body ?? []) {
    size += chunk.byteLength
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/**
 * Stands for "no body at all", as opposed to a JSON `null`. Routes where a body is optional turn
 * it into their default in `transform`; everywhere else it fails validation as a missing body.
 */
export const EMPTY_BODY = Symbol('empty body')

// The bytes each request's body was read as: an idempotency key's fingerprint hashes them.
const rawBodies = new WeakMap<Request, Uint8Array>()

/** The body as it was sent, for routes that read one (empty for those that do not). */
export const rawBodyOf = (request: Request): Uint8Array => rawBodies.get(request) ?? new Uint8Array()

/** Whether the route (Elysia's pattern, e.g. `/api/:user_id/tasks/:id`) declares a body. */
export type TakesBody = (method: string, route: string) => boolean

/**
 * The only body parser of the API: JSON or nothing. It always answers, so Elysia's own parsers
 * never run; routes still declare `parse: 'json'`, which is what puts `application/json` in
 * the OpenAPI document. A route without a body (DELETE, logout-all) never reads one, as GET
 * does not: what is sent along cannot turn its answer into a 400, 413 or 415 it does not document.
 */
export const jsonBody = (limitBytes: number, takesBody: TakesBody) =>
  new Elysia({ name: 'json-body' }).onParse({ as: 'global' }, async ({ request, route }) => {
    if (!takesBody(request.method, route)) return EMPTY_BODY
    const declared = Number(request.headers.get('content-length') ?? Number.NaN)
    if (declared > limitBytes) throw tooLarge(limitBytes)
    let bytes: Buffer
    try {
      bytes = await readLimited(request, limitBytes)
    } catch (error) {
      // A body cut off mid-way (the client went away, a malformed chunk).
      if (error instanceof ProblemError) throw error
      throw new ProblemError(400, 'validation_failed', 'The request body could not be read.')
    }
    rawBodies.set(request, bytes)
    if (bytes.length === 0) return EMPTY_BODY
    // Bun does not decompress request bodies: a gzipped one would read as text that is not UTF-8.
    const coding = request.headers.get('content-encoding')?.trim().toLowerCase()
    if (coding && coding !== 'identity')
      throw new ProblemError(
        415,
        'unsupported_media_type',
        'Send the body uncompressed: this API takes no Content-Encoding but identity.',
      )
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      throw new ProblemError(400, 'validation_failed', 'The request body is not valid UTF-8.')
    }
    if (!JSON_TYPE.test(request.headers.get('content-type') ?? ''))
      throw new ProblemError(
        415,
        'unsupported_media_type',
        'Send the body as JSON, with Content-Type: application/json.',
      )
    if (nestedDeeperThan(text, MAX_JSON_DEPTH))
      throw validationFailed(`The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`, [
        { field: 'body', message: `is nested more than ${MAX_JSON_DEPTH} levels deep` },
      ])
    try {
      return JSON.parse(text)
    } catch {
      throw new ProblemError(400, 'validation_failed', 'The request body is not valid JSON.')
    }
  })
