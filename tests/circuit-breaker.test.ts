import { describe, expect, test } from 'bun:test'
import { createCircuitBreaker } from '../src/db/circuit-breaker'
import { DatabaseUnavailableError } from '../src/db/connection-failure'

const failure = (code: string) => Object.assign(new Error(code), { code })
// What Drizzle throws: its own error, with the driver's as the cause.
const wrapped = (cause: Error) => new Error('Failed query: select 1\nparams: ', { cause })

/** A breaker whose probes and pauses the test settles one by one. */
function controlledBreaker() {
  const probes: PromiseWithResolvers<boolean>[] = []
  const pauses: PromiseWithResolvers<void>[] = []
  const events: string[] = []
  const breaker = createCircuitBreaker({
    probe: () => {
      probes.push(Promise.withResolvers<boolean>())
      return (probes.at(-1) as PromiseWithResolvers<boolean>).promise
    },
    sleep: () => {
      pauses.push(Promise.withResolvers<void>())
      return (pauses.at(-1) as PromiseWithResolvers<void>).promise
    },
    onOpen: () => events.push('open'),
    onConfirmed: () => events.push('confirmed'),
    onClose: () => events.push('close'),
  })
  return { breaker, probes, pauses, events }
}

const settle = () => Bun.sleep(0)

describe('circuit breaker', () => {
  test('a query error that is not a connection failure leaves it closed', () => {
    const { breaker, probes } = controlledBreaker()
    for (const code of ['23505', '22P02', '57014', '40001', '53300', 'CONNECTION_ENDED'])
      breaker.observe(wrapped(failure(code)))
    expect(breaker.isOpen).toBe(false)
    expect(() => breaker.check()).not.toThrow()
    expect(probes).toHaveLength(0)
  })

  test('a connection failure opens it: queries are refused, the database is probed until it answers', async () => {
    const { breaker, probes, pauses, events } = controlledBreaker()
    breaker.observe(wrapped(failure('ECONNREFUSED')))
    expect(breaker.isOpen).toBe(true)
    expect(() => breaker.check()).toThrow(DatabaseUnavailableError)
    expect(probes).toHaveLength(1) // at once, not after a pause

    probes[0]?.resolve(false)
    await settle()
    expect(events).toEqual(['open', 'confirmed'])
    breaker.observe(failure('ECONNREFUSED')) // already open: no second probe loop
    expect(probes).toHaveLength(1)

    pauses[0]?.resolve()
    await settle()
    expect(probes).toHaveLength(2)
    probes[1]?.resolve(false)
    await settle()
    pauses[1]?.resolve()
    await settle()
    probes[2]?.resolve(true)
    await settle()
    expect(breaker.isOpen).toBe(false)
    expect(() => breaker.check()).not.toThrow()
    expect(events).toEqual(['open', 'confirmed', 'close'])
  })

  test('one dropped connection on a healthy database: the first probe answers, nothing is confirmed', async () => {
    const { breaker, probes, events } = controlledBreaker()
    breaker.observe(failure('CONNECTION_CLOSED'))
    probes[0]?.resolve(true)
    await settle()
    expect(breaker.isOpen).toBe(false)
    expect(events).toEqual(['open', 'close'])
  })

  test('a probe that throws counts as no answer; stop ends the probing', async () => {
    const { breaker, probes, pauses } = controlledBreaker()
    breaker.open(new Error('the pool did not answer'))
    probes[0]?.reject(new Error('boom'))
    await settle()
    expect(breaker.isOpen).toBe(true)
    breaker.stop()
    pauses[0]?.resolve()
    await settle()
    expect(probes).toHaveLength(1)
  })
})
