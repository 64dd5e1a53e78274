import { Elysia } from 'elysia'
import type { Logger } from '../logger'

const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/

/**
 * Accepts a well-formed `X-Request-Id` (or makes one), echoes it, and writes one log line per
 * request once the response has gone out.
 */
export const requestContext = (logger: Logger) => {
  const started = new WeakMap<Request, { id: string; at: number }>()
  return new Elysia({ name: 'request-context' })
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
}
