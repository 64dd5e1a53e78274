import { beforeEach, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import type { AccountsConfig } from '../src/config'
import { refreshTokens, users } from '../src/db/schema'
import { expectProblem, makeApp, type TestApp, testConfig, tokenFor } from './support/app'
import { sharedDatabase } from './support/database'

interface Session {
  user: { id: string; email: string | null; name: string | null; created_at: string }
  token: string
  refresh_token: string
  expires_in: number
}

let api: TestApp
beforeEach(async () => {
  api = await makeApp()
})

const PASSWORD = 'correct horse battery'

async function register(email = 'ada@example.com', password = PASSWORD, name = 'Ada', app = api): Promise<Session> {
  const res = await app.request('POST', '/api/auth/register', { body: { email, password, name } })
  expect(res.status).toBe(201)
  return res.json()
}

const login = (email: string, password: string, app = api, headers: Record<string, string> = {}) =>
  app.request('POST', '/api/auth/login', { body: { email, password }, headers })

const refresh = (refreshToken: string, app = api) =>
  app.request('POST', '/api/auth/refresh', { body: { refresh_token: refreshToken } })

async function accountsApp(overrides: Partial<AccountsConfig>) {
  const base = testConfig()
  return makeApp({ config: { accounts: { ...base.accounts, ...overrides } } })
}

describe('register', () => {
  test('creates the account and signs in: user, access token, refresh token, expires_in', async () => {
    const res = await api.request('POST', '/api/auth/register', {
      body: { email: '  Ada@Example.COM ', password: PASSWORD, name: ' Ada Lovelace ' },
    })
    expect(res.status).toBe(201)
    const session: Session = await res.json()
    expect(session).toEqual({
      user: { id: expect.any(String), email: 'ada@example.com', name: 'Ada Lovelace', created_at: expect.any(String) },
      token: expect.any(String),
      refresh_token: expect.any(String),
      expires_in: 900,
    })
    expect(decodeProtectedHeader(session.token).alg).toBe('HS256')
    const claims = decodeJwt(session.token)
    expect(claims.sub).toBe(session.user.id)
    expect((claims.exp as number) - (claims.iat as number)).toBe(900)
    const { db } = (await sharedDatabase()).database
    const [row] = await db.select().from(users).where(eq(users.id, session.user.id))
    expect(row?.passwordHash).toStartWith('$argon2id$')
    expect(JSON.stringify(session)).not.toContain('argon2')
  })

  test('the access token works on the task routes', async () => {
    const { user, token } = await register()
    const created = await api.request('POST', `/api/${user.id}/tasks`, { token, body: { title: 'first' } })
    expect(created.status).toBe(201)
  })

  test('an email taken case-insensitively is a 409 naming email', async () => {
    await register('ada@example.com')
    const res = await api.request('POST', '/api/auth/register', {
      body: { email: 'ADA@example.com', password: PASSWORD, name: 'Other' },
    })
    const problem = await expectProblem(res, 409, 'conflict')
    expect(problem.errors).toEqual([{ field: 'email', message: 'is already registered' }])
  })

  test.each([
    ['an invalid email', { email: 'not-an-email' }, 'email'],
    ['an email with a space inside', { email: 'ada lovelace@example.com' }, 'email'],
    ['an email with a zero-width space', { email: 'ada@example.com\u200b' }, 'email'],
    ['an email with a bidi control', { email: 'a\u202eda@example.com' }, 'email'],
    ['a 7-character password', { password: '1234567' }, 'password'],
    ['a 257-character password', { password: 'p'.repeat(257) }, 'password'],
    ['a blank name', { name: '   ' }, 'name'],
    ['a 101-character name', { name: 'n'.repeat(101) }, 'name'],
    ['a missing name', { name: undefined }, 'name'],
    ['an unknown field', { role: 'admin' }, 'role'],
    ['a read-only id', { id: 'chosen-id' }, 'id'],
  ])('%s is a 400 naming the field and creates nothing', async (_, change, field) => {
    const body = { email: 'bea@example.com', password: PASSWORD, name: 'Bea', ...change }
    const problem = await expectProblem(
      await api.request('POST', '/api/auth/register', { body }),
      400,
      'validation_failed',
    )
    expect(problem.errors?.map((e) => e.field)).toContain(field)
    const { db } = (await sharedDatabase()).database
    expect(await db.select().from(users)).toEqual([])
  })

  test('password limits count characters: 8 emoji pass, 256 characters pass', async () => {
    await register('e1@example.com', '🔑'.repeat(8))
    await register('e2@example.com', 'p'.repeat(256))
    expect((await login('e1@example.com', '🔑'.repeat(8))).status).toBe(200)
  })
})

describe('login', () => {
  test('answers the same shape as register; email is case-insensitive', async () => {
    const { user } = await register()
    const res = await login(' ADA@example.com', PASSWORD)
    expect(res.status).toBe(200)
    const session: Session = await res.json()
    expect(session.user).toEqual(user)
    expect(session.expires_in).toBe(900)
  })

  test('wrong password, unknown email and a password-less account get the same 401', async () => {
    await register()
    await api.request('GET', '/api/ext-user/tasks', { token: await tokenFor('ext-user', { email: 'ext@example.com' }) })
    const details = new Set<string>()
    for (const [email, password] of [
      ['ada@example.com', 'wrong password'],
      ['nobody@example.com', PASSWORD],
      ['ext@example.com', PASSWORD],
    ] as const) {
      const problem = await expectProblem(await login(email, password), 401, 'unauthorized')
      details.add(problem.detail)
    }
    expect([...details]).toEqual(['The email or password is not correct.'])
  })

  test('an unknown email costs about as much time as a wrong password (a dummy hash is verified)', async () => {
    const realCost = await accountsApp({ passwordHash: { memoryCost: 19_456, timeCost: 2 } })
    await register('time@example.com', PASSWORD, 'Tim', realCost)
    const time = async (email: string) => {
      const samples: number[] = []
      for (let i = 0; i < 3; i++) {
        const start = performance.now()
        await login(email, 'not the password', realCost)
        samples.push(performance.now() - start)
      }
      return samples.sort((a, b) => a - b)[1] as number
    }
    const wrongPassword = await time('time@example.com')
    const unknownEmail = await time('nobody@example.com')
    // Without the dummy verify the unknown email would answer in about 1/50 of the time.
    expect(unknownEmail / wrongPassword).toBeGreaterThan(0.4)
  }, 30_000)
})

describe('refresh tokens', () => {
  test('rotate: a new access token and a new refresh token each time', async () => {
    const first = await register()
    const res = await refresh(first.refresh_token)
    expect(res.status).toBe(200)
    const second: Session = await res.json()
    expect(second.user).toEqual(first.user)
    expect(second.refresh_token).not.toBe(first.refresh_token)
    expect(decodeJwt(second.token).sub).toBe(first.user.id)
    expect(decodeJwt(second.token).sid).toBe(decodeJwt(first.token).sid)
    expect((await refresh(second.refresh_token)).status).toBe(200)
  })

  test('are random (256 bits) and stored only as a SHA-256 hash', async () => {
    const { refresh_token } = await register()
    expect(Buffer.from(refresh_token, 'base64url').length).toBe(32)
    const { db } = (await sharedDatabase()).database
    const rows = await db.select().from(refreshTokens)
    expect(rows).toHaveLength(1)
    expect(rows[0]?.tokenHash).toBe(createHash('sha256').update(refresh_token).digest('hex'))
    expect(JSON.stringify(rows)).not.toContain(refresh_token)
  })

  test('reusing a rotated token revokes its whole family, but not other sessions', async () => {
    const first = await register()
    const other: Session = await (await login('ada@example.com', PASSWORD)).json()
    const second: Session = await (await refresh(first.refresh_token)).json()
    await expectProblem(await refresh(first.refresh_token), 401, 'unauthorized')
    // The legitimate holder's newer token is dead too: the family is revoked.
    await expectProblem(await refresh(second.refresh_token), 401, 'unauthorized')
    expect((await refresh(other.refresh_token)).status).toBe(200)
  })

  test('two parallel uses of one token: one succeeds, then the family is revoked', async () => {
    const first = await register()
    const results = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)])
    expect(results.map((r) => r.status).sort()).toEqual([200, 401])
    const winner: Session = await (results.find((r) => r.status === 200) as Response).json()
    await expectProblem(await refresh(winner.refresh_token), 401, 'unauthorized')
  })

  test('expired, unknown and malformed refresh tokens are a 401; a missing one is a 400', async () => {
    const { refresh_token } = await register()
    const { db } = (await sharedDatabase()).database
    await db.update(refreshTokens).set({ expiresAt: new Date(Date.now() - 1000) })
    await expectProblem(await refresh(refresh_token), 401, 'unauthorized')
    await expectProblem(await refresh('x'.repeat(43)), 401, 'unauthorized')
    await expectProblem(await api.request('POST', '/api/auth/refresh', { body: {} }), 400, 'validation_failed')
  })

  test('expire after REFRESH_TOKEN_TTL', async () => {
    const short = await accountsApp({ refreshTokenTtlSeconds: 1 })
    const { refresh_token } = await register('ttl@example.com', PASSWORD, 'T', short)
    await Bun.sleep(1100)
    await expectProblem(await refresh(refresh_token, short), 401, 'unauthorized')
  })
})

describe('full flow', () => {
  test('register → login → task → refresh → task → reuse detected → signed out', async () => {
    const registered = await register()
    const id = registered.user.id
    const signedIn: Session = await (await login('ada@example.com', PASSWORD)).json()
    const task = await (
      await api.request('POST', `/api/${id}/tasks`, { token: signedIn.token, body: { title: 'flow' } })
    ).json()
    const refreshed: Session = await (await refresh(signedIn.refresh_token)).json()
    const read = await api.request('GET', `/api/${id}/tasks/${task.id}`, { token: refreshed.token })
    expect(read.status).toBe(200)
    await expectProblem(await refresh(signedIn.refresh_token), 401, 'unauthorized')
    await expectProblem(await refresh(refreshed.refresh_token), 401, 'unauthorized')
    // The first session (from register) is a separate family and still works.
    expect((await refresh(registered.refresh_token)).status).toBe(200)
  })
})

describe('logout', () => {
  test('revokes that session only', async () => {
    const a = await register()
    const b: Session = await (await login('ada@example.com', PASSWORD)).json()
    const res = await api.request('POST', '/api/auth/logout', {
      token: a.token,
      body: { refresh_token: a.refresh_token },
    })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    await expectProblem(await refresh(a.refresh_token), 401, 'unauthorized')
    expect((await refresh(b.refresh_token)).status).toBe(200)
  })

  test("cannot revoke another user's session", async () => {
    const ada = await register()
    const bea = await register('bea@example.com', PASSWORD, 'Bea')
    const res = await api.request('POST', '/api/auth/logout', {
      token: bea.token,
      body: { refresh_token: ada.refresh_token },
    })
    expect(res.status).toBe(204)
    expect((await refresh(ada.refresh_token)).status).toBe(200)
  })

  test('needs a bearer token', async () => {
    const a = await register()
    const res = await api.request('POST', '/api/auth/logout', { body: { refresh_token: a.refresh_token } })
    await expectProblem(res, 401, 'unauthorized')
    expect((await refresh(a.refresh_token)).status).toBe(200)
  })

  test('logout-all revokes every session of the user and nobody else', async () => {
    const a = await register()
    const b: Session = await (await login('ada@example.com', PASSWORD)).json()
    const bea = await register('bea@example.com', PASSWORD, 'Bea')
    expect((await api.request('POST', '/api/auth/logout-all', { token: a.token })).status).toBe(204)
    await expectProblem(await refresh(a.refresh_token), 401, 'unauthorized')
    await expectProblem(await refresh(b.refresh_token), 401, 'unauthorized')
    expect((await refresh(bea.refresh_token)).status).toBe(200)
  })
})

describe('me', () => {
  test('GET answers the user; PATCH changes the name', async () => {
    const { user, token } = await register()
    expect(await (await api.request('GET', '/api/auth/me', { token })).json()).toEqual(user)
    const res = await api.request('PATCH', '/api/auth/me', { token, body: { name: '  Countess ' } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ...user, name: 'Countess' })
    expect((await (await api.request('GET', '/api/auth/me', { token })).json()).name).toBe('Countess')
  })

  test('PATCH refuses a blank name, other fields and no token', async () => {
    const { token } = await register()
    for (const body of [{ name: ' ' }, { email: 'x@example.com' }, {}])
      await expectProblem(await api.request('PATCH', '/api/auth/me', { token, body }), 400, 'validation_failed')
    await expectProblem(await api.request('GET', '/api/auth/me'), 401, 'unauthorized')
  })

  test('works for users known from external tokens', async () => {
    const token = await tokenFor('ext-1', { email: 'Ext@Example.com', name: 'Ext' })
    expect(await (await api.request('GET', '/api/auth/me', { token })).json()).toMatchObject({
      id: 'ext-1',
      email: 'ext@example.com',
      name: 'Ext',
    })
  })
})

describe('password change', () => {
  test('needs the current password, then signs out every other session', async () => {
    const current = await register()
    const other: Session = await (await login('ada@example.com', PASSWORD)).json()
    const res = await api.request('POST', '/api/auth/password', {
      token: current.token,
      body: { current_password: PASSWORD, new_password: 'a brand new secret' },
    })
    expect(res.status).toBe(204)
    await expectProblem(await refresh(other.refresh_token), 401, 'unauthorized')
    expect((await refresh(current.refresh_token)).status).toBe(200)
    await expectProblem(await login('ada@example.com', PASSWORD), 401, 'unauthorized')
    expect((await login('ada@example.com', 'a brand new secret')).status).toBe(200)
  })

  test('a wrong or missing current password is a 400 and changes nothing', async () => {
    const { token } = await register()
    for (const body of [
      { current_password: 'wrong one!', new_password: 'whatever123' },
      { new_password: 'whatever123' },
    ]) {
      const problem = await expectProblem(
        await api.request('POST', '/api/auth/password', { token, body }),
        400,
        'validation_failed',
      )
      expect(problem.errors?.[0]?.field).toBe('current_password')
    }
    expect((await login('ada@example.com', PASSWORD)).status).toBe(200)
  })

  test('wrong current passwords are limited on their own count, and never lock the owner out of login', async () => {
    const limited = await accountsApp({ maxFailuresPerEmail: 2 })
    const { token } = await register('ada@example.com', PASSWORD, 'Ada', limited)
    const change = () =>
      limited.request('POST', '/api/auth/password', {
        token,
        body: { current_password: 'a wrong guess', new_password: 'whatever123' },
      })
    expect((await change()).status).toBe(400)
    expect((await change()).status).toBe(400)
    await expectProblem(await change(), 429, 'rate_limited')
    expect((await login('ada@example.com', PASSWORD, limited)).status).toBe(200)
  })

  test("an external token's own `sid` claim (not one of our sessions) is ignored", async () => {
    const token = await tokenFor('ext-3', { email: 'ext3@example.com', sid: 'not-a-uuid' })
    const res = await api.request('POST', '/api/auth/password', { token, body: { new_password: 'first password' } })
    expect(res.status).toBe(204)
  })

  test('an account from an external token sets its first password without current_password, then can log in', async () => {
    const token = await tokenFor('ext-2', { email: 'ext2@example.com' })
    await expectProblem(await login('ext2@example.com', 'first password'), 401, 'unauthorized')
    const res = await api.request('POST', '/api/auth/password', { token, body: { new_password: 'first password' } })
    expect(res.status).toBe(204)
    const session: Session = await (await login('ext2@example.com', 'first password')).json()
    expect(session.user.id).toBe('ext-2')
  })
})

describe('brute-force protection', () => {
  test('past the limit an email gets 429 with Retry-After, even with the right password, then recovers', async () => {
    const limited = await accountsApp({ maxFailuresPerEmail: 3, failureWindowSeconds: 2 })
    await register('ada@example.com', PASSWORD, 'Ada', limited)
    for (let i = 0; i < 3; i++)
      await expectProblem(await login('ada@example.com', 'wrong!!!', limited), 401, 'unauthorized')
    const blocked = await login('ADA@example.com', PASSWORD, limited)
    await expectProblem(blocked, 429, 'rate_limited')
    const retryAfter = Number(blocked.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(2)
    // Another email is not affected.
    await register('bea@example.com', PASSWORD, 'Bea', limited)
    expect((await login('bea@example.com', PASSWORD, limited)).status).toBe(200)
    await Bun.sleep(retryAfter * 1000 + 100)
    expect((await login('ada@example.com', PASSWORD, limited)).status).toBe(200)
  })

  test('a burst of parallel guesses cannot get past the limit', async () => {
    const limited = await accountsApp({ maxFailuresPerEmail: 5, passwordHash: { memoryCost: 19_456, timeCost: 2 } })
    await register('ada@example.com', PASSWORD, 'Ada', limited)
    const burst = await Promise.all(Array.from({ length: 30 }, () => login('ada@example.com', 'wrong!!!', limited)))
    const statuses = burst.map((r) => r.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(5)
    expect(statuses.filter((s) => s === 429)).toHaveLength(25)
    await expectProblem(await login('ada@example.com', PASSWORD, limited), 429, 'rate_limited')
  }, 30_000)

  test('a successful login clears the email counter', async () => {
    const limited = await accountsApp({ maxFailuresPerEmail: 3 })
    await register('ada@example.com', PASSWORD, 'Ada', limited)
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) await login('ada@example.com', 'wrong!!!', limited)
      expect((await login('ada@example.com', PASSWORD, limited)).status).toBe(200)
    }
  })

  test('the count is shared by every instance (it lives in Postgres)', async () => {
    const one = await accountsApp({ maxFailuresPerEmail: 2 })
    const two = await accountsApp({ maxFailuresPerEmail: 2 })
    await register('ada@example.com', PASSWORD, 'Ada', one)
    await login('ada@example.com', 'wrong!!!', one)
    await login('ada@example.com', 'wrong!!!', two)
    await expectProblem(await login('ada@example.com', PASSWORD, one), 429, 'rate_limited')
    await expectProblem(await login('ada@example.com', PASSWORD, two), 429, 'rate_limited')
  })

  test('failures across many emails from one client address are limited too', async () => {
    const limited = await accountsApp({ maxFailuresPerAddress: 3, trustProxy: true })
    // The right-most entry is what our proxy saw; the client controls everything left of it.
    const from = (address: string) => ({ 'x-forwarded-for': `10.0.0.${Math.floor(Math.random() * 250)}, ${address}` })
    for (let i = 0; i < 3; i++) await login(`user${i}@example.com`, 'wrong!!!', limited, from('203.0.113.7'))
    await expectProblem(await login('user9@example.com', 'wrong!!!', limited, from('203.0.113.7')), 429, 'rate_limited')
    // A refused address does not run up the count of the email it tried.
    const { db } = (await sharedDatabase()).database
    const { loginFailures } = await import('../src/db/schema')
    const keys = (await db.select().from(loginFailures)).map((r) => r.key)
    expect(keys).not.toContain('email:user9@example.com')
    await expectProblem(
      await login('user9@example.com', 'wrong!!!', limited, from('198.51.100.2')),
      401,
      'unauthorized',
    )
  })
})

describe('secrets stay secret', () => {
  test('no password, hash or refresh token in any response body or log line', async () => {
    const a = await register()
    const b: Session = await (await login('ada@example.com', PASSWORD)).json()
    await login('ada@example.com', 'the wrong password')
    const c: Session = await (await refresh(b.refresh_token)).json()
    await refresh(b.refresh_token)
    const me = await (await api.request('GET', '/api/auth/me', { token: a.token })).text()
    await api.request('POST', '/api/auth/logout', { token: c.token, body: { refresh_token: c.refresh_token } })
    const { db } = (await sharedDatabase()).database
    const [row] = await db.select().from(users)
    const logs = api.rawLogs()
    expect(logs).toContain('user signed in')
    for (const secret of [
      PASSWORD,
      'the wrong password',
      row?.passwordHash as string,
      a.refresh_token,
      b.refresh_token,
      c.refresh_token,
      a.token,
    ])
      expect(logs).not.toContain(secret)
    expect(me).not.toContain('argon2')
    expect(me).not.toContain('password')
  })
})
