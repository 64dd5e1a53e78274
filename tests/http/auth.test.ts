import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { eq, inArray } from 'drizzle-orm'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { users } from '../../src/db/schema'
import { expectProblem, json, makeApp, TEST_SECRET, type TestApp, tokenFor } from '../support/app'
import { sharedDatabase } from '../support/database'

const secretKey = new TextEncoder().encode(TEST_SECRET)
const now = () => Math.floor(Date.now() / 1000)

function hsToken(claims: Record<string, unknown>, alg = 'HS256', key: Uint8Array = secretKey) {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(key)
}

const unsigned = (claims: Record<string, unknown>) =>
  `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`

/** Each route of the contract, called as `alice` on a task she owns (id 1). */
const ROUTES: [string, string, unknown?][] = [
  ['GET', '/api/alice/tasks'],
  ['POST', '/api/alice/tasks', { title: 'x' }],
  ['GET', '/api/alice/tasks/1'],
  ['PUT', '/api/alice/tasks/1', { title: 'x' }],
  ['PATCH', '/api/alice/tasks/1', { title: 'x' }],
  ['DELETE', '/api/alice/tasks/1'],
  ['PATCH', '/api/alice/tasks/1/complete'],
]

let api: TestApp
beforeEach(async () => {
  api = await makeApp()
  await api.request('POST', '/api/alice/tasks', { token: await tokenFor('alice'), body: { title: 'seed' } })
})

async function badTokens(): Promise<[string, Record<string, string>][]> {
  const valid = { sub: 'alice', exp: now() + 600 }
  return [
    ['no Authorization header', {}],
    ['an empty Authorization header', { authorization: '' }],
    ['a Basic scheme', { authorization: 'Basic YWxpY2U6cHc=' }],
    ['Bearer with no token', { authorization: 'Bearer' }],
    ['a token that is not a JWT', { authorization: 'Bearer not-a-jwt' }],
    ['a JWT with a garbage header', { authorization: 'Bearer e30.e30.sig' }],
    [
      'a token signed with another secret',
      { authorization: `Bearer ${await hsToken(valid, 'HS256', new TextEncoder().encode('x'.repeat(40)))}` },
    ],
    ['a token with a tampered payload', { authorization: `Bearer ${tamper(await hsToken(valid))}` }],
    [
      'an expired token (past the 30 s skew)',
      { authorization: `Bearer ${await hsToken({ sub: 'alice', exp: now() - 60 })}` },
    ],
    ['a token without exp', { authorization: `Bearer ${await hsToken({ sub: 'alice' })}` }],
    ['a token without sub', { authorization: `Bearer ${await hsToken({ exp: now() + 600 })}` }],
    ['a token with an empty sub', { authorization: `Bearer ${await hsToken({ sub: '', exp: now() + 600 })}` }],
    [
      'a token with a NUL in sub',
      { authorization: `Bearer ${await hsToken({ sub: 'ali\u0000ce', exp: now() + 600 })}` },
    ],
    ['alg none', { authorization: `Bearer ${unsigned(valid)}` }],
    ['alg HS512 with the right secret', { authorization: `Bearer ${await hsToken(valid, 'HS512')}` }],
    ['alg HS384 with the right secret', { authorization: `Bearer ${await hsToken(valid, 'HS384')}` }],
    ['an EdDSA token while no JWKS is configured', { authorization: `Bearer ${await edToken(valid)}` }],
  ]
}

function tamper(token: string) {
  const [h, p, s] = token.split('.') as [string, string, string]
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  payload.sub = 'mallory'
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`
}

async function edToken(claims: Record<string, unknown>) {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey)
}

describe('401 on every route for every bad credential', async () => {
  const cases = await badTokens()
  for (const [method, path, body] of ROUTES) {
    test(`${method} ${path}`, async () => {
      for (const [name, headers] of cases) {
        const res = await api.request(method, path, { headers, body })
        const problem = await expectProblem(res, 401, 'unauthorized').catch((e) => {
          throw new Error(`${name}: ${e.message}`)
        })
        expect(res.headers.get('www-authenticate')).toStartWith('Bearer')
        expect(problem.detail).not.toContain('eyJ')
      }
      // Nothing was changed by any of those requests.
      const seed = await api.request('GET', '/api/alice/tasks/1', { token: await tokenFor('alice') })
      expect(await seed.json()).toMatchObject({ id: 1, title: 'seed', completed: false })
    })
  }
})

describe('token rules', () => {
  test('a token expired less than 30 seconds ago is still accepted (clock skew)', async () => {
    const token = await hsToken({ sub: 'alice', exp: now() - 10 })
    expect((await api.request('GET', '/api/alice/tasks', { token })).status).toBe(200)
  })

  test('an expired token says so, without echoing the token', async () => {
    const token = await hsToken({ sub: 'alice', exp: now() - 120 })
    const res = await api.request('GET', '/api/alice/tasks', { token })
    const problem = await expectProblem(res, 401, 'unauthorized')
    expect(problem.detail).toBe('The access token has expired.')
    expect(res.headers.get('www-authenticate')).toContain('invalid_token')
    expect(await api.rawLogs()).not.toContain(token)
  })

  test('the bearer scheme is case-insensitive', async () => {
    const token = await tokenFor('alice')
    const res = await api.request('GET', '/api/alice/tasks', { headers: { authorization: `bearer ${token}` } })
    expect(res.status).toBe(200)
  })

  test('a valid token for another user id in the path is a 403 on every route', async () => {
    const bob = await tokenFor('bob')
    for (const [method, path, body] of ROUTES) {
      const res = await api.request(method, path, { token: bob, body })
      await expectProblem(res, 403, 'forbidden')
    }
    const seed = await api.request('GET', '/api/alice/tasks/1', { token: await tokenFor('alice') })
    expect(await seed.json()).toMatchObject({ title: 'seed', completed: false })
  })

  test('a subject that is not exactly readable text is a 401 and makes no user', async () => {
    // The lone surrogates and U+FFFD used to become one and the same user row.
    const subjects = [
      '\ud800',
      '\udbff',
      '\ufffd',
      'a\udc00b',
      'tab\there',
      'new\nline',
      'del\u007f',
      'rtl\u202eevil',
      'zero\u200bwidth',
      '\ufeffbom',
      // Dot-segments: every URL resolves them away, so no path (not even the Location of the
      // user's own task) could name such a user.
      '.',
      '..',
    ]
    for (const sub of subjects) {
      const res = await api.request('GET', '/api/auth/me', { token: await hsToken({ sub, exp: now() + 600 }) })
      await expectProblem(res, 401, 'unauthorized').catch((e) => {
        throw new Error(`${JSON.stringify(sub)}: ${e.message}`)
      })
    }
    const { db } = (await sharedDatabase()).database
    expect((await db.select({ id: users.id }).from(users)).map((u) => u.id)).toEqual(['alice'])
  })

  test('an email or name claim that is not valid Unicode is ignored, the token still works', async () => {
    const token = await hsToken({ sub: 'erin', email: 'erin\ud800@example.com', name: 'Erin \udbff', exp: now() + 600 })
    expect((await api.request('GET', '/api/erin/tasks', { token })).status).toBe(200)
    const { db } = (await sharedDatabase()).database
    const [erin] = await db.select().from(users).where(eq(users.id, 'erin'))
    expect(erin).toMatchObject({ email: null, name: null })
  })

  test('user ids with reserved characters work when percent-encoded in the path', async () => {
    for (const sub of ['a b', 'a%b', 'user|1', 'ünï/cödé']) {
      const res = await api.request('POST', `/api/${encodeURIComponent(sub)}/tasks`, {
        token: await tokenFor(sub),
        body: { title: 't' },
      })
      expect(res.status).toBe(201)
      expect((await json<{ user_id: string }>(res)).user_id).toBe(sub)
      const location = res.headers.get('location') as string
      expect((await api.request('GET', location, { token: await tokenFor(sub) })).status).toBe(200)
    }
  })

  test('the auth check comes before body validation', async () => {
    const res = await api.request('POST', '/api/alice/tasks', { body: { title: '' } })
    await expectProblem(res, 401, 'unauthorized')
  })
})

describe('users seen for the first time', () => {
  test('get a row from the token claims (email lower-cased), once', async () => {
    const { db } = (await sharedDatabase()).database
    const token = await tokenFor('carol', { email: ' Carol@Example.COM ', name: 'Carol' })
    expect((await api.request('GET', '/api/carol/tasks', { token })).status).toBe(200)
    expect((await api.request('GET', '/api/carol/tasks', { token })).status).toBe(200)
    const rows = await db.select().from(users).where(eq(users.id, 'carol'))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ id: 'carol', email: 'carol@example.com', name: 'Carol' })
  })

  test('claims that cannot be stored (a NUL in email or name) are ignored, not a 500', async () => {
    const { db } = (await sharedDatabase()).database
    const token = await tokenFor('gina', { email: 'gi\u0000na@example.com', name: 'Gi\u0000na' })
    expect((await api.request('GET', '/api/gina/tasks', { token })).status).toBe(200)
    const [gina] = await db.select().from(users).where(eq(users.id, 'gina'))
    expect(gina).toMatchObject({ email: null, name: null })
  })

  test('a user deleted while its token lives on gets a 409, not a 500', async () => {
    const { db } = (await sharedDatabase()).database
    const token = await tokenFor('hal')
    expect((await api.request('GET', '/api/hal/tasks', { token })).status).toBe(200)
    await db.delete(users).where(eq(users.id, 'hal'))
    const res = await api.request('POST', '/api/hal/tasks', { token, body: { title: 'orphan' } })
    await expectProblem(res, 409, 'conflict')
  })

  test('whose email another external user shows get their own row with it: accounts are never merged by email', async () => {
    const { db } = (await sharedDatabase()).database
    await api.request('GET', '/api/dave/tasks', { token: await tokenFor('dave', { email: 'same@example.com' }) })
    const token = await tokenFor('erin', { email: 'SAME@example.com' })
    const res = await api.request('POST', '/api/erin/tasks', { token, body: { title: 'mine' } })
    expect(res.status).toBe(201)
    const rows = await db
      .select()
      .from(users)
      .where(inArray(users.id, ['dave', 'erin']))
      .orderBy(users.id)
    expect(rows.map((u) => [u.id, u.email])).toEqual([
      ['dave', 'same@example.com'],
      ['erin', 'same@example.com'],
    ])
    const daves = await api.request('GET', '/api/dave/tasks', { token: await tokenFor('dave') })
    expect(await daves.json()).toEqual([])
  })
})

describe('JWKS tokens (Better Auth JWT plugin)', () => {
  const issuer = 'http://127.0.0.1:1/auth'
  const jwksEnv = (url: string) => ({ JWKS_URL: url, JWT_ISSUER: issuer, JWT_AUDIENCE: issuer })
  let jwksServer: ReturnType<typeof Bun.serve>
  let privateKey: CryptoKey
  let publicJwk: Record<string, unknown>
  let jwksApi: TestApp
  let jwksRequests = 0

  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    privateKey = pair.privateKey
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'EdDSA', use: 'sig' }
    jwksServer = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: () => {
        jwksRequests++
        return Response.json({ keys: [publicJwk] })
      },
    })
  })
  afterAll(() => jwksServer.stop(true))

  beforeEach(async () => {
    jwksApi = await makeApp({ env: jwksEnv(`http://127.0.0.1:${jwksServer.port}/api/auth/jwks`) })
  })

  // Better Auth's shape; `overrides` replace any of these claims.
  const sign = (overrides: Record<string, unknown>) =>
    new SignJWT({
      sub: 'frank',
      email: 'frank@example.com',
      name: 'Frank',
      iss: issuer,
      aud: issuer,
      iat: now(),
      exp: now() + 900,
      ...overrides,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'key-1' })
      .sign(privateKey)

  test('a valid EdDSA token works on the task routes and creates the user', async () => {
    const token = await sign({})
    const res = await jwksApi.request('POST', '/api/frank/tasks', { token, body: { title: 'from better auth' } })
    expect(res.status).toBe(201)
    const { db } = (await sharedDatabase()).database
    const [frank] = await db.select().from(users).where(eq(users.id, 'frank'))
    expect(frank).toMatchObject({ email: 'frank@example.com', name: 'Frank' })
    expect(jwksRequests).toBeGreaterThan(0)
  })

  test('HS256 tokens keep working next to JWKS', async () => {
    const res = await jwksApi.request('GET', '/api/alice/tasks', { token: await tokenFor('alice') })
    expect(res.status).toBe(200)
  })

  test.each([
    ['a wrong issuer', { iss: 'http://evil.example' }],
    ['a wrong audience', { aud: 'http://other.example' }],
    ['an expired token', { exp: now() - 120 }],
  ])('%s is a 401', async (_, claims) => {
    const token = await sign(claims)
    await expectProblem(await jwksApi.request('GET', '/api/frank/tasks', { token }), 401, 'unauthorized')
  })

  test('a token signed by an unknown key is a 401', async () => {
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: 'key-1' })
      .setSubject('frank')
      .setIssuer(issuer)
      .setAudience(issuer)
      .setExpirationTime('15m')
      .sign(other.privateKey)
    await expectProblem(await jwksApi.request('GET', '/api/frank/tasks', { token }), 401, 'unauthorized')
  })

  test('an HS256 token signed with the public key as its secret is refused (no algorithm confusion)', async () => {
    const forged = await hsToken(
      { sub: 'frank', iss: issuer, aud: issuer, exp: now() + 600 },
      'HS256',
      new TextEncoder().encode(JSON.stringify(publicJwk)),
    )
    await expectProblem(await jwksApi.request('GET', '/api/frank/tasks', { token: forged }), 401, 'unauthorized')
    const forgedX = await hsToken(
      { sub: 'frank', iss: issuer, aud: issuer, exp: now() + 600 },
      'HS256',
      Buffer.from(String(publicJwk.x), 'base64url'),
    )
    await expectProblem(await jwksApi.request('GET', '/api/frank/tasks', { token: forgedX }), 401, 'unauthorized')
  })

  test.each([
    ['answers 502', () => new Response('bad gateway', { status: 502 })],
    ['answers an HTML page', () => new Response('<html>oops</html>', { headers: { 'content-type': 'text/html' } })],
    ['answers JSON without keys', () => Response.json({ nope: true })],
  ])('when the JWKS endpoint %s, a valid token gets 503 with Retry-After, not 401', async (_, answer) => {
    const broken = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: answer })
    try {
      const outage = await makeApp({ env: jwksEnv(`http://127.0.0.1:${broken.port}/jwks`) })
      const res = await outage.request('GET', '/api/frank/tasks', { token: await sign({}) })
      await expectProblem(res, 503, 'service_unavailable')
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
      expect((await outage.logs()).some((l) => l.msg === 'dependency unavailable')).toBe(true)
    } finally {
      broken.stop(true)
    }
  })

  test('a valid JWKS token for another path user is a 403', async () => {
    const token = await sign({})
    await expectProblem(await jwksApi.request('GET', '/api/alice/tasks', { token }), 403, 'forbidden')
  })
})
