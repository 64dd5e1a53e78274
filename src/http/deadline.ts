import type { Logger } from '../logger'
import { PROBLEM_CONTENT_TYPE, problem } from './problem'

type Fetch<S> = (request: Request, server: S) => Response | Promise<Response>

// Bun closes a connection that has been idle for its `idleTimeout`, even while the handler is
// still waiting, and the client gets no answer at all. The connection must outlive the
// deadline by a margin (Bun's timer moves in coarse steps), and Bun allows at most 255 s.
const IDLE_MARGIN_SECONDS = 10
const MAX_IDLE_SECONDS = 255
// 4 minutes: a round figure within MAX_IDLE_SECONDS - IDLE_MARGIN_SECONDS.
export const MAX_DEADLINE_SECONDS = 240

/** Bun.serve's `idleTimeout` for a request deadline of `seconds`: the deadline always comes first. */
export function idleTimeoutFor(seconds: number): number {
  return Math.min(seconds + IDLE_MARGIN_SECONDS, MAX_IDLE_SECONDS)
}

/**
 * Answers 503 when the app has not answered within `seconds`: a database that accepts
 * connections but stops responding must not leave clients hanging. The late answer, if it
 * ever comes, is dropped.
 */
export function withDeadline<S>(
  fetch: Fetch<S>,
  seconds: number,
  logger: Logger,
  onTimeout: () => unknown = () => {},
): (request: Request, server: S) => Promise<Response> {
  return (request, server) => {
    let timer: Timer | undefined
    const late = new Promise<Response>((resolve) => {
      timer = setTimeout(() => {
        const path = new URL(request.url).pathname
        logger.warn('request deadline passed', { method: request.method, path, deadline_seconds: seconds })
        onTimeout()
        const body = problem(503, 'service_unavailable', 'The request took too long; try again shortly.')
        resolve(
          new Response(JSON.stringify(body), {
            status: 503,
            headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'retry-after': '5' },
          }),
        )
      }, seconds * 1000)
    })
    const answered = Promise.resolve(fetch(request, server)).finally(() => clearTimeout(timer))
    return Promise.race([answered, late])
  }
}
