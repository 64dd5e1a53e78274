import { beforeEach, describe, expect, test } from 'bun:test'
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import fc from 'fast-check'
import { expectProblem, makeApp, type TestApp, tokenFor } from '../support/app'
import { edgeQueryValue, edgeValue, hostileFor, queryValueAccepted, sampleOf, validFor } from '../support/arbitrary'
import { describeRoute, type RouteInfo, routeTable } from '../support/routes'
import { conflictOfState, inState, targetFor } from '../support/targets'

// Property tests over every route that takes a body or a query, with inputs derived from the
// route's own schemas: valid ones must get a documented success, anything at all must get an
// answer the route documents (never a 5xx), in the problem shape when it is an error, and must
// leave other data as it was.

const routes = await routeTable()
const withInput = routes.filter((r) => r.body || r.query)
const RUNS = Number(Bun.env.PROPERTY_RUNS ?? 25)
// A failure prints its seed; PROPERTY_SEED=<seed> replays it.
const SEED = Bun.env.PROPERTY_SEED ? Number(Bun.env.PROPERTY_SEED) : undefined

let api: TestApp
let alice: string
let bob: string
beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

/**
 * Routes whose valid input always succeeds, whatever state the account is in. Not the calendar
 * feed: its key is a secret only the server makes (a well-formed one is a 404).
 */
const alwaysSucceeds = (route: RouteInfo) => route.path.startsWith('/api/:user_id/') && route.authenticated

/**
 * The list's rules beyond its schema: a cursor (or a stream ticket) is only ever one the server
 * issued, a search needs a letter or digit, and `-sort` already says the direction.
 */
function withinListRules(query: Record<string, unknown>): Record<string, unknown> {
  const { cursor: _, ticket: __, ...rest } = query
  if (typeof rest.q === 'string' && !/[\p{L}\p{N}]/u.test(rest.q)) delete rest.q
  if (typeof rest.sort === 'string' && rest.sort.startsWith('-')) delete rest.order
  return rest
}

function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query))
    for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one))
  const text = params.toString()
  return text ? `?${text}` : ''
}

// Raw query strings, including what URLSearchParams would never produce.
const hostileQuery = fc.oneof(
  fc
    .array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 30 })), { maxLength: 6 })
    .map((pairs) => `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`),
  fc.constantFrom(
    '?limit=1&limit=2',
    '?status=all&status=pending',
    '?q=%00',
    '?q=%ED%A0%80',
    '?tag=%',
    '?tag=a&tag=b&tag=',
    '?limit=1e3',
    '?limit=99999999999999999999',
    '?tz=%2B05%3A00',
    '?cursor=%FF%FE',
    `?q=${'x'.repeat(3000)}`,
    `?${'a=1&'.repeat(500)}`,
  ),
)

async function checkDocumented(route: RouteInfo, res: Response) {
  const status = String(res.status)
  if (route.stream && res.status === 200) {
    expect(res.headers.get('content-type')).toStartWith('text/event-stream')
    return res.body?.cancel()
  }
  const text = await res.text()
  if (res.status >= 500 || !(status in route.responses))
    throw new Error(`${describeRoute(route)} answered ${status}, which it does not document: ${text.slice(0, 300)}`)
  if (res.status === 204) return
  const body = JSON.parse(text)
  if (res.status >= 400) expect(res.headers.get('content-type')).toStartWith('application/problem+json')
  if (!Value.Check(route.responses[status] as never, body))
    throw new Error(`${describeRoute(route)} ${status} body does not match its schema: ${text.slice(0, 300)}`)
}

/** Bob's data and one task of Alice's that no generated request names. */
async function sentinels() {
  const read = async () => ({
    bob: await (await api.request('GET', '/api/bob/tasks', { token: bob })).json(),
  })
  await api.request('POST', '/api/bob/tasks', { token: bob, body: { title: 'bob keeps this', tags: ['x'] } })
  const before = await read()
  return async () => expect(await read()).toEqual(before)
}

async function pathFor(route: RouteInfo) {
  if (!/:(list_)?id\b/.test(route.path)) return route.pathFor('alice')
  return route.pathFor('alice', await targetFor(api, alice, 'alice', route))
}

const send = async (route: RouteInfo, body: unknown, query: string) =>
  api.request(route.method, `${await pathFor(route)}${query}`, { token: alice, body })
/** `send` with a valid body made valid in the account's state too (see `inState`). */
const sendValid = async (route: RouteInfo, body: unknown, query: string) =>
  send(route, await inState(api, alice, 'alice', route, body), query)

describe('valid input gets a documented success', () => {
  test.each(withInput.map((r) => [describeRoute(r), r] as const))(
    '%s',
    async (_, route) => {
      const unchanged = await sentinels()
      const body = route.body ? validFor(route.body) : fc.constant(undefined)
      const query = route.query
        ? validFor(route.query).map((q) => queryString(withinListRules(q as Record<string, unknown>)))
        : fc.constant('')
      await fc.assert(
        fc.asyncProperty(body, query, async (b, q) => {
          const res = await sendValid(route, b, q)
          if (alwaysSucceeds(route) && (res.status < 200 || res.status > 299) && !conflictOfState(route, res.status))
            throw new Error(
              `${describeRoute(route)} refused valid input with ${res.status}: ${await res.clone().text()}`,
            )
          await checkDocumented(route, res)
        }),
        { numRuns: RUNS, endOnFailure: true, seed: SEED },
      )
      await unchanged()
    },
    60_000,
  )
})

describe('any input gets a documented answer, never a 5xx, and other data stays', () => {
  test.each(withInput.map((r) => [describeRoute(r), r] as const))(
    '%s',
    async (_, route) => {
      const unchanged = await sentinels()
      const body = route.body ? hostileFor(route.body) : fc.constant(undefined)
      const query = route.query ? hostileQuery : fc.constant('')
      await fc.assert(
        fc.asyncProperty(body, query, async (b, q) => checkDocumented(route, await send(route, b, q))),
        { numRuns: RUNS * 2, endOnFailure: true, seed: SEED },
      )
      await unchanged()
    },
    60_000,
  )
})

/** The parameters of a route's query schema, except opaque cursors, tickets and keys (only the server makes those). */
const queryParameters = (route: RouteInfo) =>
  Object.entries((route.query as { properties?: Record<string, TSchema> } | undefined)?.properties ?? {}).filter(
    ([name]) => name !== 'cursor' && name !== 'ticket' && name !== 'key',
  )

// A search needs a letter or digit (a blank one means no search): a rule beyond the schema.
const searchable = (name: string, raw: string) => name !== 'q' || raw.trim() === '' || /[\p{L}\p{N}]/u.test(raw)

describe('what the schema refuses is a 400 naming the field; what it accepts succeeds', () => {
  const bodies = withInput.filter(
    (r) => r.body && Object.keys((r.body as { properties?: object }).properties ?? {}).length,
  )
  test.each(bodies.map((r) => [describeRoute(r), r] as const))(
    'body of %s',
    async (_, route) => {
      const schema = route.body as TSchema & { properties: Record<string, TSchema> }
      const fields = Object.keys(schema.properties)
      await fc.assert(
        fc.asyncProperty(validFor(schema), fc.constantFrom(...fields), edgeValue, async (valid, field, value) => {
          const body = { ...(valid as object), [field]: value }
          if (!Value.Check(schema, body)) {
            const problem = await expectProblem(await send(route, body, ''), 400, 'validation_failed')
            expect(problem.errors?.map((e) => e.field.split('.')[0])).toContain(field)
            return
          }
          const res = await sendValid(route, body, '')
          if (alwaysSucceeds(route) && !conflictOfState(route, res.status)) expect(res.status).toBeLessThan(300)
          else await checkDocumented(route, res)
        }),
        { numRuns: RUNS * 2, endOnFailure: true, seed: SEED },
      )
    },
    60_000,
  )

  const queries = withInput.filter((r) => queryParameters(r).length > 0)
  test.each(queries.map((r) => [describeRoute(r), r] as const))(
    'query of %s',
    async (_, route) => {
      const parameters = queryParameters(route)
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...parameters), edgeQueryValue, async ([name, schema], raw) => {
          // A route that takes a body too (quick add's `dry_run`) gets a valid one.
          const body = route.body ? await inState(api, alice, 'alice', route, sampleOf(route.body)) : undefined
          const res = await send(route, body, `?${name}=${encodeURIComponent(raw)}`)
          if (queryValueAccepted(schema, raw) && searchable(name, raw)) {
            if ((res.status < 200 || res.status > 299) && !conflictOfState(route, res.status))
              throw new Error(`?${name}=${raw} answered ${res.status}: ${await res.text()}`)
            await res.body?.cancel()
          } else {
            const problem = await expectProblem(res, 400, 'validation_failed').catch((e: Error) => {
              throw new Error(`?${name}=${JSON.stringify(raw)}: ${e.message}`)
            })
            expect(problem.errors?.map((e) => e.field)).toContain(name)
          }
        }),
        { numRuns: RUNS * 4, endOnFailure: true, seed: SEED },
      )
    },
    60_000,
  )
})
