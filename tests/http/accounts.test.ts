import { beforeEach, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { eq, inArray, isNotNull } from 'drizzle-orm'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { loginFailures, refreshTokens, sessions, users } from '../../src/db/schema'
import { HASHING_SLOTS } from '../../src/modules/accounts/passwords'
import { expectProblem, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { sharedDatabase } from '../support/database'

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
  return json<Session>(res)
}

const login = (email: string, password: string, app = api, headers: Record<string, string> = {}) =>
  app.request('POST', '/api/auth/login', { body: { email, password }, headers })

const refresh = (refreshToken: string, app = api) =>
  app.request('POST', '/api/auth/refresh', { body: { refresh_token: refreshToken } })

const accountsApp = (env: Record<string, string>, realPasswordCost = false) => makeApp({ env, realPasswordCost })

/** As if every refresh token exchanged so far had been exchanged that long ago. */
async function exchangedSecondsAgo(seconds: number) {
  const { db } = (await sharedDatabase()).database
  await db
    .update(refreshTokens)
    .set({ usedAt: new Date(Date.now() - seconds * 1000) })
    .where(isNotNull(refreshTokens.usedAt))
}

describe('register', () => {
  test('creates the account and signs in: user, access token, refresh token, expires_in', async () => {
    const res = await api.request('POST', '/api/auth/register', {
      body: { email: '  Ada@Example.COM ', password: PASSWORD, name: ' Ada Lovelace ' },
    })
    expect(res.status).toBe(201)
    const session: Session = await json<Session>(res)
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
    const session: Session = await json<Session>(res)
    expect(session.user).toEqual(user)
    expect(session.expires_in).toBe(900)
  })

  test('an email matches in any Unicode form as well as any case: one address, one account', async () => {
    // "josé" with a precomposed é (NFC) and with e + a combining accent (NFD).
    const nfc = 'jos\u00e9@example.com'
    const nfd = 'jose\u0301@example.com'
    const { user } = await register(nfd)
    expect(user.email).toBe(nfc)
    for (const email of [nfc, nfd, 'JOSE\u0301@EXAMPLE.COM', ' Jos\u00c9@example.com ']) {
      const res = await login(email, PASSWORD)
      expect({ email, status: res.status }).toEqual({ email, status: 200 })
      expect((await json<Session>(res)).user.id).toBe(user.id)
    }
    for (const email of [nfc, 'JOSE\u0301@example.com']) {
      const res = await api.request('POST', '/api/auth/register', {
        body: { email, password: PASSWORD, name: 'Other' },
      })
      expect((await expectProblem(res, 409, 'conflict')).errors).toEqual([
        { field: 'email', message: 'is already registered' },
      ])
    }
    const { db } = (await sharedDatabase()).database
    expect((await db.select().from(users)).map((u) => u.email)).toEqual([nfc])
  })

  test("an external user keeps its issuer's address, which a password account holds in another form; login reaches only the password account", async () => {
    const ada = await register('jos\u00e9@example.com')
    const token = await tokenFor('ext-jose', { email: 'JOSE\u0301@example.com' })
    expect((await api.request('GET', '/api/ext-jose/tasks', { token })).status).toBe(200)
    const zoe = await tokenFor('ext-zoe', { email: 'Zoe\u0308@example.com' })
    expect((await api.request('GET', '/api/ext-zoe/tasks', { token: zoe })).status).toBe(200)
    const { db } = (await sharedDatabase()).database
    const rows = await db
      .select()
      .from(users)
      .where(inArray(users.id, ['ext-jose', 'ext-zoe']))
      .orderBy(users.id)
    expect(rows.map((u) => [u.id, u.email])).toEqual([
      ['ext-jose', 'jos\u00e9@example.com'],
      ['ext-zoe', 'zo\u00eb@example.com'],
    ])
    const session = await json<Session>(await login('JOSE\u0301@example.com', PASSWORD))
    expect(session.user.id).toBe(ada.user.id)
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
    const realCost = await accountsApp({}, true)
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
    const second: Session = await json<Session>(res)
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

  test('after the grace period, reusing a rotated token revokes its whole family, but not other sessions', async () => {
    const first = await register()
    const other: Session = await json<Session>(await login('ada@example.com', PASSWORD))
    const second: Session = await json<Session>(await refresh(first.refresh_token))
    await exchangedSecondsAgo(31)
    await expectProblem(await refresh(first.refresh_token), 401, 'unauthorized')
    // The legitimate holder's newer token is dead too: the family is revoked.
    await expectProblem(await refresh(second.refresh_token), 401, 'unauthorized')
    expect((await refresh(other.refresh_token)).status).toBe(200)
    // The operator hears of it once, without the token.
    const warnings = (await api.logs()).filter((l) => l.msg === 'refresh token reused: session signed out')
    expect(warnings).toEqual([expect.objectContaining({ level: 'warn', user_id: first.user.id })])
    expect(JSON.stringify(warnings)).not.toContain(first.refresh_token)
  })

  test('two tabs refreshing at once: 10 parallel uses of one token all succeed, with one successor', async () => {
    const first = await register()
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(first.refresh_token)))
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200))
    const answers: Session[] = await Promise.all(results.map((r) => json<Session>(r)))
    // Whichever answer a client keeps, it holds the same, working refresh token.
    expect(new Set(answers.map((s) => s.refresh_token)).size).toBe(1)
    const successor = answers[0]?.refresh_token as string
    expect(successor).not.toBe(first.refresh_token)
    for (const s of answers) {
      expect(decodeJwt(s.token).sid).toBe(decodeJwt(first.token).sid)
      const tasks = await api.request('GET', `/api/${first.user.id}/tasks`, { token: s.token })
      expect(tasks.status).toBe(200)
    }
    const { db } = (await sharedDatabase()).database
    expect((await db.select().from(sessions)).map((row) => row.revokedAt)).toEqual([null])
    const next = await refresh(successor)
    expect(next.status).toBe(200)
    expect((await refresh((await json<Session>(next)).refresh_token)).status).toBe(200)
  })

  test('a reuse within the grace period answers the newest token of the session, even two exchanges on', async () => {
    const first = await register()
    const second: Session = await json<Session>(await refresh(first.refresh_token))
    const third: Session = await json<Session>(await refresh(second.refresh_token))
    const late = await refresh(first.refresh_token)
    expect(late.status).toBe(200)
    expect((await json<Session>(late)).refresh_token).toBe(third.refresh_token)
    expect((await refresh(third.refresh_token)).status).toBe(200)
  })

  test('the grace period ends: with REFRESH_REUSE_GRACE=1, a reuse 1.2 s later revokes the family', async () => {
    const short = await accountsApp({ REFRESH_REUSE_GRACE: '1' })
    const first = await register('grace@example.com', PASSWORD, 'G', short)
    const second: Session = await json<Session>(await refresh(first.refresh_token, short))
    expect((await refresh(first.refresh_token, short)).status).toBe(200)
    await Bun.sleep(1200)
    await expectProblem(await refresh(first.refresh_token, short), 401, 'unauthorized')
    await expectProblem(await refresh(second.refresh_token, short), 401, 'unauthorized')
  })

  test('REFRESH_REUSE_GRACE=0: two parallel uses of one token, one succeeds, then the family is revoked', async () => {
    const strict = await accountsApp({ REFRESH_REUSE_GRACE: '0' })
    const first = await register('strict@example.com', PASSWORD, 'S', strict)
    const results = await Promise.all([refresh(first.refresh_token, strict), refresh(first.refresh_token, strict)])
    expect(results.map((r) => r.status).sort()).toEqual([200, 401])
    const winner: Session = await json<Session>(results.find((r) => r.status === 200) as Response)
    await expectProblem(await refresh(winner.refresh_token, strict), 401, 'unauthorized')
  })

  test('within the grace period, a token of a session that was signed out stays dead', async () => {
    const first = await register()
    const second: Session = await json<Session>(await refresh(first.refresh_token))
    expect((await api.request('POST', '/api/auth/logout', { token: second.token })).status).toBe(204)
    await expectProblem(await refresh(first.refresh_token), 401, 'unauthorized')
    await expectProblem(await refresh(second.refresh_token), 401, 'unauthorized')
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
    const short = await accountsApp({ REFRESH_TOKEN_TTL: '1' })
    const { refresh_token } = await register('ttl@example.com', PASSWORD, 'T', short)
    await Bun.sleep(1100)
    await expectProblem(await refresh(refresh_token, short), 401, 'unauthorized')
  })
})

describe('full flow', () => {
  test('register → login → task → refresh → task → reuse detected → signed out', async () => {
    const registered = await register()
    const id = registered.user.id
    const signedIn: Session = await json<Session>(await login('ada@example.com', PASSWORD))
    const task = await json<{ id: number }>(
      await api.request('POST', `/api/${id}/tasks`, { token: signedIn.token, body: { title: 'flow' } }),
    )
    const refreshed: Session = await json<Session>(await refresh(signedIn.refresh_token))
    const read = await api.request('GET', `/api/${id}/tasks/${task.id}`, { token: refreshed.token })
    expect(read.status).toBe(200)
    await exchangedSecondsAgo(31)
    await expectProblem(await refresh(signedIn.refresh_token), 401, 'unauthorized')
    await expectProblem(await refresh(refreshed.refresh_token), 401, 'unauthorized')
    // The first session (from register) is a separate family and still works.
    expect((await refresh(registered.refresh_token)).status).toBe(200)
  })
})

describe('logout', () => {
  test('revokes that session only', async () => {
    const a = await register()
    const b: Session = await json<Session>(await login('ada@example.com', PASSWORD))
    const res = await api.request('POST', '/api/auth/logout', {
      token: a.token,
      body: { refresh_token: a.refresh_token },
    })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    await expectProblem(await refresh(a.refresh_token), 401, 'unauthorized')
    expect((await refresh(b.refresh_token)).status).toBe(200)
  })

  test('with no body and no Content-Type (what a frontend sends): signs out the session of the access token', async () => {
    const a = await register()
    const b: Session = await json<Session>(await login('ada@example.com', PASSWORD))
    const res = await api.request('POST', '/api/auth/logout', { token: a.token, headers: { 'x-request-id': 'bye' } })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    await expectProblem(await refresh(a.refresh_token), 401, 'unauthorized')
    expect((await refresh(b.refresh_token)).status).toBe(200)
    const signedOut = (logs: Record<string, unknown>[]) => logs.find((l) => l.msg === 'user signed out')
    const line = signedOut(await api.logs())
    expect(line).toMatchObject({ user_id: a.user.id, request_id: 'bye' })
  })

  test('with {}: the same', async () => {
    const a = await register()
    expect((await api.request('POST', '/api/auth/logout', { token: a.token, body: {} })).status).toBe(204)
    await expectProblem(await refresh(a.refresh_token), 401, 'unauthorized')
  })

  test('with an access token from before a refresh: the whole session closes, the newest refresh token too', async () => {
    const first = await register()
    const second: Session = await json<Session>(await refresh(first.refresh_token))
    expect((await api.request('POST', '/api/auth/logout', { token: first.token })).status).toBe(204)
    await expectProblem(await refresh(second.refresh_token), 401, 'unauthorized')
  })

  test('with an external token (no session of ours): 204, and no session changes', async () => {
    const a = await register()
    const { db } = (await sharedDatabase()).database
    const before = await db.select().from(sessions)
    // An HS256 token minted elsewhere, even one naming Ada's session id in `sid`, closes nothing.
    const sid = decodeJwt(a.token).sid as string
    for (const token of [await tokenFor('someone'), await tokenFor('bea', { sid })]) {
      expect((await api.request('POST', '/api/auth/logout', { token })).status).toBe(204)
    }
    expect(await db.select().from(sessions)).toEqual(before)
    expect((await refresh(a.refresh_token)).status).toBe(200)
  })

  test('any other body is a 400', async () => {
    const a = await register()
    const res = await api.request('POST', '/api/auth/logout', { token: a.token, body: { refresh_token: 5 } })
    await expectProblem(res, 400, 'validation_failed')
    expect((await refresh(a.refresh_token)).status).toBe(200)
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
    const b: Session = await json<Session>(await login('ada@example.com', PASSWORD))
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
    expect(await json<Session['user']>(await api.request('GET', '/api/auth/me', { token }))).toEqual(user)
    const res = await api.request('PATCH', '/api/auth/me', { token, body: { name: '  Countess ' } })
    expect(res.status).toBe(200)
    expect(await json<Session['user']>(res)).toEqual({ ...user, name: 'Countess' })
    expect((await json<Session['user']>(await api.request('GET', '/api/auth/me', { token }))).name).toBe('Countess')
  })

  test('PATCH refuses a blank name, other fields and no token', async () => {
    const { token } = await register()
    for (const body of [{ name: ' ' }, { email: 'x@example.com' }, {}])
      await expectProblem(await api.request('PATCH', '/api/auth/me', { token, body }), 400, 'validation_failed')
    await expectProblem(await api.request('GET', '/api/auth/me'), 401, 'unauthorized')
  })

  test('works for users known from external tokens', async () => {
    const token = await tokenFor('ext-1', { email: 'Ext@Example.com', name: 'Ext' })
    expect(await json<Session['user']>(await api.request('GET', '/api/auth/me', { token }))).toMatchObject({
      id: 'ext-1',
      email: 'ext@example.com',
      name: 'Ext',
    })
  })
})

describe('password change', () => {
  test('needs the current password, then signs out every other session', async () => {
    const current = await register()
    const other: Session = await json<Session>(await login('ada@example.com', PASSWORD))
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

  test('parallel changes from one current password: one wins, the others are told it is no longer current', async () => {
    const { token } = await register()
    const wanted = ['new password one', 'new password two', 'new password three']
    const answers = await Promise.all(
      wanted.map((new_password) =>
        api.request('POST', '/api/auth/password', { token, body: { current_password: PASSWORD, new_password } }),
      ),
    )
    const won = wanted.filter((_, i) => answers[i]?.status === 204)
    expect(won).toHaveLength(1)
    for (const answer of answers.filter((a) => a.status !== 204))
      expect((await expectProblem(answer, 400, 'validation_failed')).errors?.[0]?.field).toBe('current_password')
    // Every caller that was told 204 can log in with what it set; nobody else can.
    for (const password of [PASSWORD, ...wanted])
      expect((await login('ada@example.com', password)).status).toBe(won.includes(password) ? 200 : 401)
  })

  test('parallel first passwords of an external account: one wins, the others need current_password', async () => {
    const token = await tokenFor('ext-race', { email: 'ext-race@example.com' })
    const wanted = ['first password one', 'first password two', 'first password three']
    const answers = await Promise.all(
      wanted.map((new_password) => api.request('POST', '/api/auth/password', { token, body: { new_password } })),
    )
    const won = wanted.filter((_, i) => answers[i]?.status === 204)
    expect(won).toHaveLength(1)
    for (const answer of answers.filter((a) => a.status !== 204))
      expect((await expectProblem(answer, 400, 'validation_failed')).errors?.[0]?.field).toBe('current_password')
    for (const password of wanted)
      expect((await login('ext-race@example.com', password)).status).toBe(won.includes(password) ? 200 : 401)
  })

  test('wrong current passwords are limited on their own count, and never lock the owner out of login', async () => {
    const limited = await accountsApp({ LOGIN_MAX_FAILURES: '2' })
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

  test("logins that fail for an email spelled like the count's own name do not limit anyone's password change", async () => {
    const limited = await accountsApp({ LOGIN_MAX_FAILURES: '2' })
    // A frontend that mints tokens with the shared secret may use email addresses as user ids.
    const token = await tokenFor('ivy@example.com', { email: 'ivy@example.com' })
    const first = await limited.request('POST', '/api/auth/password', { token, body: { new_password: PASSWORD } })
    expect(first.status).toBe(204)
    for (let i = 0; i < 3; i++) await login('password-change:ivy@example.com', 'a wrong guess', limited)
    const change = await limited.request('POST', '/api/auth/password', {
      token,
      body: { current_password: PASSWORD, new_password: 'a brand new secret' },
    })
    expect(change.status).toBe(204)
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
    const session: Session = await json<Session>(await login('ext2@example.com', 'first password'))
    expect(session.user.id).toBe('ext-2')
  })
})

describe('brute-force protection', () => {
  test('past the limit an email gets 429 with Retry-After, even with the right password, then recovers', async () => {
    const limited = await accountsApp({ LOGIN_MAX_FAILURES: '3', LOGIN_WINDOW: '2' })
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
    const limited = await accountsApp({ LOGIN_MAX_FAILURES: '5' }, true)
    await register('ada@example.com', PASSWORD, 'Ada', limited)
    const burst = await Promise.all(Array.from({ length: 30 }, () => login('ada@example.com', 'wrong!!!', limited)))
    const statuses = burst.map((r) => r.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(5)
    expect(statuses.filter((s) => s === 429)).toHaveLength(25)
    await expectProblem(await login('ada@example.com', PASSWORD, limited), 429, 'rate_limited')
  }, 30_000)

  test('a successful login clears the email counter', async () => {
    const limited = await accountsApp({ LOGIN_MAX_FAILURES: '3' })
    await register('ada@example.com', PASSWORD, 'Ada', limited)
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) await login('ada@example.com', 'wrong!!!', limited)
      expect((await login('ada@example.com', PASSWORD, limited)).status).toBe(200)
    }
  })

  test('the count is shared by every instance (it lives in Postgres)', async () => {
    const one = await accountsApp({ LOGIN_MAX_FAILURES: '2' })
    const two = await accountsApp({ LOGIN_MAX_FAILURES: '2' })
    await register('ada@example.com', PASSWORD, 'Ada', one)
    await login('ada@example.com', 'wrong!!!', one)
    await login('ada@example.com', 'wrong!!!', two)
    await expectProblem(await login('ada@example.com', PASSWORD, one), 429, 'rate_limited')
    await expectProblem(await login('ada@example.com', PASSWORD, two), 429, 'rate_limited')
  })

  test('failures across many emails from one client address are limited too', async () => {
    const limited = await accountsApp({ LOGIN_MAX_FAILURES_PER_ADDRESS: '3', TRUST_PROXY: 'true' })
    // The right-most entry is what our proxy saw; the client controls everything left of it.
    const from = (address: string) => ({ 'x-forwarded-for': `10.0.0.${Math.floor(Math.random() * 250)}, ${address}` })
    for (let i = 0; i < 3; i++) await login(`user${i}@example.com`, 'wrong!!!', limited, from('203.0.113.7'))
    await expectProblem(await login('user9@example.com', 'wrong!!!', limited, from('203.0.113.7')), 429, 'rate_limited')
    // A refused address does not run up the count of the email it tried.
    const { db } = (await sharedDatabase()).database
    const keys = (await db.select().from(loginFailures)).map((r) => r.key)
    expect(keys).not.toContain('email:user9@example.com')
    await expectProblem(
      await login('user9@example.com', 'wrong!!!', limited, from('198.51.100.2')),
      401,
      'unauthorized',
    )
  })
})

describe('sign-up and refresh limits per client address', () => {
  // The right-most X-Forwarded-For entry is the address our proxy saw.
  const from = (address: string) => ({ 'x-forwarded-for': address })
  const signUp = (app: TestApp, email: string, address: string) =>
    app.request('POST', '/api/auth/register', {
      body: { email, password: PASSWORD, name: 'Someone' },
      headers: from(address),
    })
  const refreshFrom = (app: TestApp, refreshToken: string, address: string) =>
    app.request('POST', '/api/auth/refresh', { body: { refresh_token: refreshToken }, headers: from(address) })
  const accountCount = async () => (await sharedDatabase()).database.db.$count(users)

  test('past SIGNUP_MAX_PER_ADDRESS one address gets 429 with Retry-After and creates nothing; others still sign up', async () => {
    const limited = await accountsApp({ SIGNUP_MAX_PER_ADDRESS: '2', TRUST_PROXY: 'true' })
    expect((await signUp(limited, 'one@example.com', '203.0.113.7')).status).toBe(201)
    expect((await signUp(limited, 'two@example.com', '203.0.113.7')).status).toBe(201)
    const refused = await signUp(limited, 'three@example.com', '203.0.113.7')
    const retryAfter = Number(refused.headers.get('retry-after'))
    await expectProblem(refused, 429, 'rate_limited')
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(3600)
    expect(await accountCount()).toBe(2)
    expect((await signUp(limited, 'three@example.com', '198.51.100.2')).status).toBe(201)
  })

  test('a burst of parallel sign-ups from one address cannot get past the limit', async () => {
    const limited = await accountsApp({ SIGNUP_MAX_PER_ADDRESS: '3', TRUST_PROXY: 'true' })
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) => signUp(limited, `burst${i}@example.com`, '203.0.113.7')),
    )
    expect(burst.map((r) => r.status).sort()).toEqual([...Array(3).fill(201), ...Array(9).fill(429)])
    expect(await accountCount()).toBe(3)
  })

  test('refusals from an address already refused are answered without counting them in the database', async () => {
    const limited = await accountsApp({ SIGNUP_MAX_PER_ADDRESS: '1', TRUST_PROXY: 'true' })
    expect((await signUp(limited, 'one@example.com', '203.0.113.7')).status).toBe(201)
    for (let i = 0; i < 5; i++)
      await expectProblem(await signUp(limited, `more${i}@example.com`, '203.0.113.7'), 429, 'rate_limited')
    const { db } = (await sharedDatabase()).database
    const [row] = await db.select().from(loginFailures).where(eq(loginFailures.key, 'signup:203.0.113.7'))
    expect(row?.failures).toBe(2)
  })

  test('a sign-up turned away because hashing is full (503) does not use up its address allowance', async () => {
    // Slow hashes, so the first sign-ups surely still hold every slot when the next arrives.
    const limited = await accountsApp(
      {
        SIGNUP_MAX_PER_ADDRESS: '1',
        PASSWORD_HASH_MAX_WAITING: '0',
        TRUST_PROXY: 'true',
        PASSWORD_HASH_TIME_COST: '30',
      },
      true,
    )
    // Answered once the dummy hash made at start-up is done and its slot free again.
    await expectProblem(await login('nobody@example.com', PASSWORD, limited), 401, 'unauthorized')
    const holders = Array.from({ length: HASHING_SLOTS }, (_, i) =>
      signUp(limited, `holder${i}@example.com`, `198.51.100.${i + 10}`),
    )
    await Bun.sleep(200)
    await expectProblem(await signUp(limited, 'ada@example.com', '203.0.113.7'), 503, 'service_unavailable')
    expect((await Promise.all(holders)).map((r) => r.status)).toEqual(Array(HASHING_SLOTS).fill(201))
    expect((await signUp(limited, 'ada@example.com', '203.0.113.7')).status).toBe(201)
  }, 30_000)

  test('sign-ups are allowed again once SIGNUP_WINDOW has passed', async () => {
    const limited = await accountsApp({ SIGNUP_MAX_PER_ADDRESS: '1', SIGNUP_WINDOW: '1', TRUST_PROXY: 'true' })
    expect((await signUp(limited, 'one@example.com', '203.0.113.7')).status).toBe(201)
    const refused = await signUp(limited, 'two@example.com', '203.0.113.7')
    await expectProblem(refused, 429, 'rate_limited')
    expect(refused.headers.get('retry-after')).toBe('1')
    await Bun.sleep(1100)
    expect((await signUp(limited, 'two@example.com', '203.0.113.7')).status).toBe(201)
  })

  test('the sign-up count is shared by every instance (it lives in Postgres)', async () => {
    const one = await accountsApp({ SIGNUP_MAX_PER_ADDRESS: '2', TRUST_PROXY: 'true' })
    const two = await accountsApp({ SIGNUP_MAX_PER_ADDRESS: '2', TRUST_PROXY: 'true' })
    expect((await signUp(one, 'one@example.com', '203.0.113.7')).status).toBe(201)
    expect((await signUp(two, 'two@example.com', '203.0.113.7')).status).toBe(201)
    await expectProblem(await signUp(one, 'three@example.com', '203.0.113.7'), 429, 'rate_limited')
    await expectProblem(await signUp(two, 'four@example.com', '203.0.113.7'), 429, 'rate_limited')
  })

  test('past REFRESH_MAX_PER_ADDRESS refreshes get 429 with Retry-After, and the refused token stays usable', async () => {
    const limited = await accountsApp({ REFRESH_MAX_PER_ADDRESS: '2', TRUST_PROXY: 'true' })
    const session: Session = await json<Session>(await signUp(limited, 'ada@example.com', '198.51.100.2'))
    let token = session.refresh_token
    for (let i = 0; i < 2; i++) {
      const res = await refreshFrom(limited, token, '203.0.113.7')
      expect(res.status).toBe(200)
      token = ((await res.json()) as Session).refresh_token
    }
    const refused = await refreshFrom(limited, token, '203.0.113.7')
    await expectProblem(refused, 429, 'rate_limited')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    // Refused before the token was looked at: not spent, not taken as a reuse.
    expect((await refreshFrom(limited, token, '198.51.100.9')).status).toBe(200)
  })

  test('sign-ups, refreshes and failed logins are counted apart', async () => {
    const limited = await accountsApp({
      SIGNUP_MAX_PER_ADDRESS: '1',
      REFRESH_MAX_PER_ADDRESS: '1',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '1',
      TRUST_PROXY: 'true',
    })
    const address = '203.0.113.7'
    const session: Session = await json<Session>(await signUp(limited, 'ada@example.com', address))
    await expectProblem(await signUp(limited, 'bea@example.com', address), 429, 'rate_limited')
    expect((await refreshFrom(limited, session.refresh_token, address)).status).toBe(200)
    expect((await login('ada@example.com', PASSWORD, limited, from(address))).status).toBe(200)
    await expectProblem(await login('ada@example.com', 'wrong!!!', limited, from(address)), 401, 'unauthorized')
    await expectProblem(await login('ada@example.com', PASSWORD, limited, from(address)), 429, 'rate_limited')
  })
})

describe('secrets stay secret', () => {
  test('no password, hash or refresh token in any response body or log line', async () => {
    const a = await register()
    const b: Session = await json<Session>(await login('ada@example.com', PASSWORD))
    await login('ada@example.com', 'the wrong password')
    const c: Session = await json<Session>(await refresh(b.refresh_token))
    await refresh(b.refresh_token)
    const me = await (await api.request('GET', '/api/auth/me', { token: a.token })).text()
    await api.request('POST', '/api/auth/logout', { token: c.token, body: { refresh_token: c.refresh_token } })
    const { db } = (await sharedDatabase()).database
    const [row] = await db.select().from(users)
    const logs = await api.rawLogs()
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
