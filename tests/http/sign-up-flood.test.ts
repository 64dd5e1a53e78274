import { expect, test } from 'bun:test'
import { users } from '../../src/db/schema'
import { HASHING_SLOTS } from '../../src/modules/accounts/passwords'
import { expectProblem, makeApp, type TestApp } from '../support/app'
import { sharedDatabase } from '../support/database'

const PASSWORD = 'correct horse battery'

// Where the order of hashing matters, hashes cost what they cost in production.
const appWith = (maxWaitingHashes: number) =>
  makeApp({ env: { PASSWORD_HASH_MAX_WAITING: String(maxWaitingHashes) }, realPasswordCost: true })

const signUp = (api: TestApp, who: string) =>
  api.request('POST', '/api/auth/register', { body: { email: `${who}@example.com`, password: PASSWORD, name: who } })

test('a login is answered while many sign-ups wait for password hashing', async () => {
  const crowd = 8 * HASHING_SLOTS + 8
  const api = await appWith(crowd)
  expect((await signUp(api, 'user')).status).toBe(201)
  let signedUp = 0
  const signUps = Array.from({ length: crowd }, (_, i) =>
    signUp(api, `crowd${i}`).then((res) => {
      signedUp++
      return res.status
    }),
  )
  const login = await api.request('POST', '/api/auth/login', {
    body: { email: 'user@example.com', password: PASSWORD },
  })
  const signedUpBeforeLogin = signedUp
  expect(login.status).toBe(200)
  expect(await Promise.all(signUps)).toEqual(Array(crowd).fill(201))
  // First come, first served, the login waited for every sign-up queued before it.
  expect(signedUpBeforeLogin).toBeLessThan(crowd / 2)
}, 60_000)

test('past PASSWORD_HASH_MAX_WAITING sign-ups are refused at once (503, Retry-After) and create nothing', async () => {
  const api = await appWith(2)
  const crowd = HASHING_SLOTS + 2 + 10
  const order: number[] = []
  const responses = await Promise.all(
    Array.from({ length: crowd }, async (_, i) => {
      const res = await signUp(api, `crowd${i}`)
      order.push(res.status)
      return res
    }),
  )
  const refused = responses.filter((r) => r.status === 503)
  const accepted = responses.filter((r) => r.status === 201)
  expect(refused.length).toBeGreaterThan(0)
  expect(refused.length + accepted.length).toBe(crowd)
  for (const res of refused) {
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    await expectProblem(res, 503, 'service_unavailable')
  }
  // Refused without queueing: every refusal came before the last sign-up that was let in.
  expect(order.lastIndexOf(503)).toBeLessThan(order.lastIndexOf(201))
  const { db } = (await sharedDatabase()).database
  expect(await db.$count(users)).toBe(accepted.length)
}, 60_000)
