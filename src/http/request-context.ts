import { Elysia } from 'elysia'
import type { Logger } from '../logger'

const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/

// Module-wide, keyed by the request itself: any code that holds the request can find its id.
const started = new WeakMap<Request, { id: string; at: number }>()

/** The id `requestContext` gave this request (undefined outside a request it saw). */
export const requestIdOf = (request: Request): string | undefined => started.get(request)?.id

/** A logger whose every line carries the request's `request_id`, for events a request causes. */
export function requestLogger(logger: Logger, request: Request): Logger {
  const request_id = requestIdOf(request)
  const bound =
    (write: Logger['info']): Logger['info'] =>
    (msg, fields) =>
      write(msg, { request_id, ...fields })
  return {
    debug: bound(logger.debug),
    info: bound(logger.info),
    warn: bound(logger.warn),
    error: bound(logger.error),
  }
}

/**
 * Accepts a well-formed `X-Request-Id` (or makes one), echoes it, and writes one log line per
 * request once the response has gone out.
 */
export const requestContext = (logger: Logger) =>
  new Elysia({ name: 'request-context' })
    .onRequest(({ request, set }) => {
      const given = request.headers.get('x-request-id')
      const id = given && CLIENT_REQUEST_ID.test(given) ? given : crypto.randomUUID()
      started.set(request, { id, at: performance.now() })
      set.headers['x-request-id'] = id
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, path, set }) => {
      const start = started.get(request)
      logger.info('request', {
        request_id: start?.id,
        method: request.method,
        route: route || undefined,
        path: route ? undefined : path,
        status: typeof set.status === 'number' ? set.status : 200,
        duration_ms: start ? Math.round((performance.now() - start.at) * 100) / 100 : undefined,
      })
    })
