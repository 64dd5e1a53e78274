import { DatabaseUnavailableError, isConnectionFailure } from './connection-failure'

export interface CircuitBreakerOptions {
  /** Resolves true when the database answers; never waits long (it bounds its own time). */
  probe: () => Promise<boolean>
  /** Pause between failed probes. */
  intervalMs?: number
  /** The breaker opened: `cause` is the failure that opened it. */
  onOpen?: (cause: unknown) => void
  /** The first probe after opening failed too: the database is down, not a single connection. */
  onConfirmed?: () => void
  /** A probe succeeded; requests go through again. */
  onClose?: (downForMs: number) => void
  sleep?: (ms: number) => Promise<unknown>
  now?: () => number
}

export interface CircuitBreaker {
  readonly isOpen: boolean
  /** Throws DatabaseUnavailableError while open. */
  check(): void
  /** A query failed: a connection failure opens the breaker, any other error is not its business. */
  observe(error: unknown): void
  /** Opens it for a reason found elsewhere (a pool that stopped answering). */
  open(cause: unknown): void
  /** Stops probing for good (the database is being closed). */
  stop(): void
}

/**
 * While the database is unreachable, every request that needs it would wait for its own
 * connection attempt (up to the connect timeout, plus the driver's back-off between attempts)
 * before failing. Once one connection failure is seen the breaker opens: queries are refused
 * at once, and a probe runs right away and then every `intervalMs` until the database answers,
 * which closes it. A single dropped connection on a healthy database thus costs the moment the
 * first probe takes.
 */
export function createCircuitBreaker({
  probe,
  intervalMs = 500,
  onOpen = () => {},
  onConfirmed = () => {},
  onClose = () => {},
  sleep = Bun.sleep,
  now = Date.now,
}: CircuitBreakerOptions): CircuitBreaker {
  let openedAt: number | undefined
  let stopped = false

  async function probeUntilAnswered() {
    for (let attempt = 1; !stopped; attempt++) {
      if (await probe().catch(() => false)) {
        const downFor = now() - (openedAt ?? now())
        openedAt = undefined
        return onClose(downFor)
      }
      if (attempt === 1) onConfirmed()
      await sleep(intervalMs)
    }
  }

  const breaker: CircuitBreaker = {
    get isOpen() {
      return openedAt !== undefined
    },
    check() {
      if (openedAt !== undefined) throw new DatabaseUnavailableError()
    },
    observe(error) {
      if (isConnectionFailure(error)) breaker.open(error)
    },
    open(cause) {
      if (openedAt !== undefined || stopped) return
      openedAt = now()
      onOpen(cause)
      void probeUntilAnswered()
    },
    stop() {
      stopped = true
    },
  }
  return breaker
}
