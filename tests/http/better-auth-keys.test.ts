import { describe, expect, test } from 'bun:test'
import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose'
import { expectProblem, json, makeApp } from '../support/app'
import { type BetterAuthAlgorithm, startBetterAuth } from '../support/better-auth'

// Tokens from a real Better Auth server (JWT plugin) whose keys rotate, against the API
// configured as an operator would: BETTER_AUTH_URL, and the key-set intervals as variables.

const INTERVAL_SECONDS = 1
const keyEnv = { JWKS_REFETCH_INTERVAL: String(INTERVAL_SECONDS) }

/** A Better Auth server with one signed-up user, and the API pointed at it. */
async function issuerAndApi(env: Record<string, string> = {}, alg?: BetterAuthAlgorithm) {
  const issuer = await startBetterAuth({ alg })
  const user = await issuer.signUp('rotating@example.com', 'Rotating User')
  const api = await makeApp({ env: { ...issuer.env, ...keyEnv, ...env } })
  const me = (token: string) => api.request('GET', '/api/auth/me', { token })
  return { issuer, user, api, me }
}

/** A token in Better Auth's shape, signed with a key it never published, under some `kid`. */
async function junkToken(issuerUrl: string, sub: string, kid: string) {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid })
    .setSubject(sub)
    .setIssuer(issuerUrl)
    .setAudience(issuerUrl)
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(privateKey)
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid

describe('key rotation at the issuer', () => {
  test('the first token signed with a new key is accepted on its first request', async () => {
    const { issuer, user, me } = await issuerAndApi()
    const before = await issuer.token(user.cookie)
    expect((await me(before)).status).toBe(200)
    issuer.rotate()
    const after = await issuer.token(user.cookie)
    expect(kidOf(after)).not.toBe(kidOf(before))
    const res = await me(after)
    expect(res.status).toBe(200)
    expect((await json<{ id: string }>(res)).id).toBe(user.id)
    // Tokens of the old key stay valid through Better Auth's grace period.
    expect((await me(before)).status).toBe(200)
  })

  test('also right after a token with an unknown kid, sent just before it', async () => {
    const { issuer, user, me } = await issuerAndApi()
    expect((await me(await issuer.token(user.cookie))).status).toBe(200)
    issuer.rotate()
    const fresh = await issuer.token(user.cookie)
    const junk = await junkToken(issuer.url, user.id, 'no-such-key')
    const started = performance.now()
    const [junkAnswer, freshAnswer] = await Promise.all([me(junk), me(fresh)])
    await expectProblem(junkAnswer, 401, 'unauthorized')
    expect(freshAnswer.status).toBe(200)
    // At worst it waited for the next fetch the interval allows.
    expect(performance.now() - started).toBeLessThan(INTERVAL_SECONDS * 1000 + 1500)
    // And sequentially: the junk's answer first, then the new key.
    issuer.rotate()
    const newer = await issuer.token(user.cookie)
    await expectProblem(await me(await junkToken(issuer.url, user.id, 'another-junk')), 401, 'unauthorized')
    expect((await me(newer)).status).toBe(200)
  })

  test('a burst of 20 tokens with unknown kids costs at most one JWKS fetch per interval, and each gets 401', async () => {
    const { issuer, user, me } = await issuerAndApi()
    expect((await me(await issuer.token(user.cookie))).status).toBe(200)
    const fetchesBefore = issuer.jwks.requests
    const started = performance.now()
    const junk = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => me(await junkToken(issuer.url, user.id, `junk-${i}`))),
    )
    for (const res of junk) await expectProblem(res, 401, 'unauthorized')
    const seconds = (performance.now() - started) / 1000
    expect(issuer.jwks.requests - fetchesBefore).toBeLessThanOrEqual(Math.ceil(seconds / INTERVAL_SECONDS) + 1)
    expect(issuer.jwks.requests - fetchesBefore).toBeLessThanOrEqual(2)
  })

  test('while the JWKS cannot be fetched, a token of a new key gets 503 with Retry-After (never 401), and works once it can', async () => {
    const { issuer, user, me } = await issuerAndApi()
    const before = await issuer.token(user.cookie)
    expect((await me(before)).status).toBe(200)
    issuer.rotate()
    const fresh = await issuer.token(user.cookie)
    issuer.jwks.down = true
    const res = await me(fresh)
    await expectProblem(res, 503, 'service_unavailable')
    const retryAfter = Number(res.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(INTERVAL_SECONDS)
    // The keys already known keep working meanwhile.
    expect((await me(before)).status).toBe(200)
    issuer.jwks.down = false
    await Bun.sleep(retryAfter * 1000)
    expect((await me(fresh)).status).toBe(200)
  })

  test('a key the issuer stops publishing stops verifying within JWKS_MAX_AGE, even for a token verified before', async () => {
    const { issuer, user, me, api } = await issuerAndApi({ JWKS_MAX_AGE: '1' })
    const old = await issuer.token(user.cookie)
    expect((await me(old)).status).toBe(200)
    issuer.rotate()
    const fresh = await issuer.token(user.cookie)
    expect((await me(fresh)).status).toBe(200)
    issuer.retireExpiredKeys()
    await Bun.sleep(1100)
    await expectProblem(await me(old), 401, 'unauthorized')
    expect((await me(fresh)).status).toBe(200)
    const changes = (await api.logs()).filter((l) => l.msg === 'issuer keys changed')
    expect(changes.map((l) => [l.added, l.removed])).toEqual([
      [[kidOf(fresh)], []],
      [[], [kidOf(old)]],
    ])
  })
})

describe("every algorithm Better Auth's JWT plugin signs with", () => {
  test.each(['EdDSA', 'ES256', 'ES512', 'PS256', 'RS256'] as const)('%s is accepted', async (alg) => {
    const { issuer, user, me } = await issuerAndApi({}, alg)
    const token = await issuer.token(user.cookie)
    expect(decodeProtectedHeader(token).alg).toBe(alg)
    const res = await me(token)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: user.id, name: 'Rotating User', email: 'rotating@example.com' })
  })

  test('a token whose alg does not fit the type of the key it names is a 401', async () => {
    const { issuer, user, me } = await issuerAndApi({}, 'ES512')
    const genuine = await issuer.token(user.cookie)
    expect((await me(genuine)).status).toBe(200)
    // ES256 under the kid of Better Auth's P-521 key, signed with a P-256 key of the attacker's.
    const { privateKey } = await generateKeyPair('ES256')
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: kidOf(genuine) })
      .setSubject(user.id)
      .setIssuer(issuer.url)
      .setAudience(issuer.url)
      .setExpirationTime('15m')
      .sign(privateKey)
    await expectProblem(await me(forged), 401, 'unauthorized')
  })
})
