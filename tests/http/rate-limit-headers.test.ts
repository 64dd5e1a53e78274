import { describe, expect, test } from 'bun:test'
import { expectProblem, expectStatus, makeApp, type TestApp, tokenFor } from '../support/app'

// Rate-limited routes send RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers,
// structured-field syntax) on every answer that was counted, not only Retry-After on the 429.

interface Item {
  name: string
  params: Record<string, number>
}

/** An SF list of string items with integer parameters, as these fields carry it. */
function parseList(value: string | null): Item[] {
  if (value === null) throw new Error('header missing')
  return value.split(', ').map((member) => {
    const match = /^"([a-z-]+)"((?:;[a-z]+=\d+)+)$/.exec(member)
    if (!match) throw new Error(`not a structured-field item with integer parameters: ${member}`)
    const params = Object.fromEntries(
      (match[2] as string)
        .slice(1)
        .split(';')
        .map((p) => p.split('='))
        .map(([k, v]) => [k, Number(v)]),
    )
    return { name: match[1] as string, params }
  })
}

/** A typed client's answer: its headers are those of the response. */
type Answer = { response: Response }
const headers = (res: Answer) => res.response.headers
const policies = (res: Answer) => parseList(headers(res).get('ratelimit-policy'))
const limits = (res: Answer) => parseList(headers(res).get('ratelimit'))
const remaining = (res: Answer, name: string) => limits(res).find((i) => i.name === name)?.params.r

const PASSWORD = 'correct horse battery'
// Behind a proxy, so the client address is the same in process and against the binary.
const from = (address: string) => ({ 'x-forwarded-for': address })

describe('the per-user limit (RATE_LIMIT_PER_MINUTE)', () => {
  test('every counted answer says the policy and what is left; the 429 too', async () => {
    const api = await makeApp({ env: { RATE_LIMIT_PER_MINUTE: '3' } })
    const tasks = api.as(await tokenFor('alice')).api({ user_id: 'alice' }).tasks
    const answers = [
      await tasks.get(),
      await tasks({ id: 999 }).get(), // a 404 is counted too
      await tasks.post({ title: 'x' }),
      await tasks.get(),
    ]
    expect(answers.map((r) => r.status)).toEqual([200, 404, 201, 429])
    for (const res of answers) {
      expect(headers(res).get('ratelimit-policy')).toBe('"user";q=3;w=60')
      const [limit] = limits(res)
      expect(limit?.name).toBe('user')
      expect(limit?.params.t).toBeGreaterThanOrEqual(1)
      expect(limit?.params.t).toBeLessThanOrEqual(60)
    }
    expect(answers.map((r) => remaining(r, 'user'))).toEqual([2, 1, 0, 0])
    const refused = answers[3] as Awaited<ReturnType<typeof tasks.get>>
    await expectProblem(refused, 429, 'rate_limited')
    expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  })

  test('answers that were not counted carry none: no token, and the limiter switched off', async () => {
    const limited = await makeApp({ env: { RATE_LIMIT_PER_MINUTE: '3' } })
    const anonymous = await limited.client.api({ user_id: 'alice' }).tasks.get()
    expect(anonymous.status).toBe(401)
    expect(headers(anonymous).get('ratelimit')).toBeNull()
    const off = await makeApp({ env: { RATE_LIMIT_PER_MINUTE: '0' } })
    const res = await off
      .as(await tokenFor('alice'))
      .api({ user_id: 'alice' })
      .tasks.get()
    expect(res.status).toBe(200)
    expect(headers(res).get('ratelimit-policy')).toBeNull()
    expect(headers(res).get('ratelimit')).toBeNull()
  })
})

describe('login, sign-up and refresh limits', () => {
  const accounts = () =>
    makeApp({
      env: { TRUST_PROXY: 'true', LOGIN_MAX_FAILURES: '2', SIGNUP_MAX_PER_ADDRESS: '2', REFRESH_MAX_PER_ADDRESS: '2' },
    })
  const signUp = (api: TestApp, email: string) =>
    api.client.api.auth.register.post({ email, password: PASSWORD, name: 'N' }, { headers: from('203.0.113.9') })

  test('sign-up: "signup";q=2;w=3600, counting down to the 429', async () => {
    const api = await accounts()
    const answers = [await signUp(api, 'a@example.com'), await signUp(api, 'b@example.com')]
    answers.push(await signUp(api, 'c@example.com'), await signUp(api, 'd@example.com'))
    expect(answers.map((r) => r.status)).toEqual([201, 201, 429, 429])
    for (const res of answers) expect(headers(res).get('ratelimit-policy')).toBe('"signup";q=2;w=3600')
    expect(answers.map((r) => remaining(r, 'signup'))).toEqual([1, 0, 0, 0])
    for (const res of answers) expect(limits(res)[0]?.params.t).toBeWithin(1, 3601)
  })

  test('login: the address and the email policies, on failures, the 429 and a success', async () => {
    const api = await accounts()
    expect((await signUp(api, 'ada@example.com')).status).toBe(201)
    const attempt = (password: string) =>
      api.client.api.auth.login.post({ email: 'ada@example.com', password }, { headers: from('198.51.100.4') })
    const failed = await attempt('wrong password')
    expect(failed.status).toBe(401)
    expect(policies(failed)).toEqual([
      { name: 'login-address', params: { q: 100, w: 900 } },
      { name: 'login-email', params: { q: 2, w: 900 } },
    ])
    expect([remaining(failed, 'login-address'), remaining(failed, 'login-email')]).toEqual([99, 1])
    for (const limit of limits(failed)) expect(limit.params.t).toBeWithin(1, 901)
    // A success clears the email's count and gives the address its attempt back.
    const ok = await attempt(PASSWORD)
    expect(ok.status).toBe(200)
    expect([remaining(ok, 'login-address'), remaining(ok, 'login-email')]).toEqual([99, 2])
    await attempt('wrong password')
    await attempt('wrong password')
    const refused = await attempt(PASSWORD)
    await expectProblem(refused, 429, 'rate_limited')
    expect(remaining(refused, 'login-email')).toBe(0)
  })

  test('refresh: "refresh";q=2;w=900', async () => {
    const api = await accounts()
    const session = expectStatus(await signUp(api, 'ada@example.com'), 201)
    const refresh = (token: string) =>
      api.client.api.auth.refresh.post({ refresh_token: token }, { headers: from('192.0.2.1') })
    const first = await refresh(session.refresh_token)
    expect(first.status).toBe(200)
    expect(headers(first).get('ratelimit-policy')).toBe('"refresh";q=2;w=900')
    expect(remaining(first, 'refresh')).toBe(1)
    const unknown = await refresh('x'.repeat(43))
    expect(unknown.status).toBe(401)
    expect(remaining(unknown, 'refresh')).toBe(0)
    const refused = await refresh(expectStatus(first, 200).refresh_token)
    await expectProblem(refused, 429, 'rate_limited')
    expect(remaining(refused, 'refresh')).toBe(0)
  })

  test('password change: its own policy beside the per-user one', async () => {
    const api = await makeApp({ env: { RATE_LIMIT_PER_MINUTE: '100', LOGIN_MAX_FAILURES: '5' } })
    const register = await api.client.api.auth.register.post({ email: 'pw@example.com', password: PASSWORD, name: 'P' })
    const { token } = expectStatus(register, 201)
    const res = await api
      .as(token)
      .api.auth.password.post({ current_password: 'not it at all', new_password: 'another long one' })
    expect(res.status).toBe(400)
    expect(policies(res).map((p) => p.name)).toEqual(['user', 'password'])
    expect(remaining(res, 'password')).toBe(4)
  })
})

describe('CORS', () => {
  test('a browser may read both headers', async () => {
    const api = await makeApp()
    const res = await api.client.health.get({ headers: { origin: 'http://localhost:3000' } })
    const exposed = headers(res).get('access-control-expose-headers')?.split(', ') ?? []
    expect(exposed).toContain('RateLimit')
    expect(exposed).toContain('RateLimit-Policy')
  })
})
