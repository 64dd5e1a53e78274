import { afterAll, describe, expect, test } from 'bun:test'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { createIssuerKeys, ISSUER_KEY_TYPES, IssuerUnreachable, UnknownSigningKey } from '../src/auth/issuer-keys'

// The issuer's key set on an injected clock: waits are sleeps on that clock, so these run in
// milliseconds however long the intervals are.

const INTERVAL = 3000
const MAX_AGE = 300_000

/** A JWKS endpoint whose keys and health the test controls, counting its requests. */
function jwksServer() {
  const state = { keys: [] as JWK[], down: false, requests: 0 }
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch() {
      state.requests++
      return state.down ? new Response('down', { status: 503 }) : Response.json({ keys: state.keys })
    },
  })
  return Object.assign(state, { url: `http://127.0.0.1:${server.port}/jwks`, stop: () => server.stop(true) })
}

const servers: ReturnType<typeof jwksServer>[] = []
afterAll(() => {
  for (const s of servers) s.stop()
})

async function publicJwk(alg: string, kid: string): Promise<JWK> {
  const options = alg === 'EdDSA' ? { crv: 'Ed25519' } : {}
  const { publicKey } = await generateKeyPair(alg, options)
  return { ...(await exportJWK(publicKey)), kid, alg }
}

/** Key set, server and a clock that only moves when someone sleeps on it. */
function setup(options: { maxAge?: number } = {}) {
  const server = jwksServer()
  servers.push(server)
  const clock = { now: 1_000_000, slept: [] as number[] }
  const changes: { added: string[]; removed: string[] }[] = []
  const staleUses: number[] = []
  const keys = createIssuerKeys({
    url: server.url,
    refetchIntervalMs: INTERVAL,
    maxAgeMs: options.maxAge ?? MAX_AGE,
    now: () => clock.now,
    // Everyone waiting for the same moment wakes at that moment, not one interval after another.
    sleep: async (ms) => {
      clock.slept.push(ms)
      const until = clock.now + ms
      await Promise.resolve()
      clock.now = Math.max(clock.now, until)
    },
    onChange: (change) => changes.push(change),
    onStaleUse: (_, age) => staleUses.push(age),
  })
  return { server, clock, keys, changes, staleUses }
}

/** Waits (in real time) for the JWKS server to have seen a request. */
async function until(condition: () => boolean) {
  for (let waited = 0; !condition(); waited++) {
    if (waited > 2000) throw new Error('timed out')
    await Bun.sleep(1)
  }
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => 'found',
    (e) => e,
  )

describe("the issuer's key set", () => {
  test('a key added by a rotation is found on its first use, and the fetch it takes is immediate', async () => {
    const { server, clock, keys, changes } = setup()
    server.keys = [await publicJwk('EdDSA', 'old')]
    await keys.keyFor({ alg: 'EdDSA', kid: 'old' })
    expect(server.requests).toBe(1)
    server.keys = [...server.keys, await publicJwk('EdDSA', 'new')]
    clock.now += INTERVAL
    const found = await keys.keyFor({ alg: 'EdDSA', kid: 'new' })
    expect(found.jwk.kid).toBe('new')
    expect(server.requests).toBe(2)
    expect(clock.slept).toEqual([])
    expect(changes).toEqual([{ added: ['new'], removed: [] }])
  })

  test('right after a junk kid, a new key still works: its request waits for the next allowed fetch instead of failing', async () => {
    const { server, clock, keys } = setup()
    server.keys = [await publicJwk('EdDSA', 'old')]
    await keys.keyFor({ alg: 'EdDSA', kid: 'old' })
    clock.now += INTERVAL
    // The junk arrives first and spends the fetch; the rotation happens just after it.
    const rotated = [...server.keys, await publicJwk('EdDSA', 'new')]
    const junk = rejection(keys.keyFor({ alg: 'EdDSA', kid: 'junk' }))
    await until(() => server.requests === 2)
    server.keys = rotated
    expect(await junk).toBeInstanceOf(UnknownSigningKey)
    const started = clock.now
    const found = await keys.keyFor({ alg: 'EdDSA', kid: 'new' })
    expect(found.jwk.kid).toBe('new')
    expect(clock.now - started).toBeLessThanOrEqual(INTERVAL)
    expect(server.requests).toBe(3)
  })

  test('a burst of unknown kids costs one fetch per interval, and each is refused once a fetch newer than it says so', async () => {
    const { server, clock, keys } = setup()
    server.keys = [await publicJwk('EdDSA', 'k1')]
    await keys.keyFor({ alg: 'EdDSA', kid: 'k1' })
    const started = clock.now
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => rejection(keys.keyFor({ alg: 'EdDSA', kid: `junk-${i}` }))),
    )
    for (const outcome of burst) expect(outcome).toBeInstanceOf(UnknownSigningKey)
    expect(server.requests).toBe(2)
    expect(clock.now - started).toBe(INTERVAL)
    // Ten more intervals of junk, one request per interval: one fetch each.
    for (let i = 0; i < 10; i++) await rejection(keys.keyFor({ alg: 'EdDSA', kid: `more-${i}` }))
    expect(server.requests).toBe(12)
    expect(clock.now - started).toBe(11 * INTERVAL)
  })

  test('concurrent first uses share one fetch', async () => {
    const { server, keys } = setup()
    server.keys = [await publicJwk('ES256', 'k1')]
    const found = await Promise.all(Array.from({ length: 20 }, () => keys.keyFor({ alg: 'ES256', kid: 'k1' })))
    expect(found.every((f) => f.jwk.kid === 'k1')).toBe(true)
    expect(server.requests).toBe(1)
  })

  test('while the key set cannot be fetched, an unknown kid gets IssuerUnreachable with the time until the next try; known keys keep working', async () => {
    const { server, clock, keys, staleUses } = setup({ maxAge: 10_000 })
    server.keys = [await publicJwk('EdDSA', 'old')]
    await keys.keyFor({ alg: 'EdDSA', kid: 'old' })
    server.down = true
    clock.now += INTERVAL
    const outage = await rejection(keys.keyFor({ alg: 'EdDSA', kid: 'new' }))
    expect(outage).toBeInstanceOf(IssuerUnreachable)
    expect((outage as IssuerUnreachable).retryAfterSeconds).toBe(INTERVAL / 1000)
    // No fetch during the cooldown, and no wait either: the answer is at once.
    clock.now += 1000
    const again = await rejection(keys.keyFor({ alg: 'EdDSA', kid: 'new' }))
    expect((again as IssuerUnreachable).retryAfterSeconds).toBe(2)
    expect(server.requests).toBe(2)
    expect((await keys.keyFor({ alg: 'EdDSA', kid: 'old' })).jwk.kid).toBe('old')
    // Past the maximum age a failed refresh still leaves the known keys in use (and says so).
    clock.now += 10_000
    expect((await keys.keyFor({ alg: 'EdDSA', kid: 'old' })).jwk.kid).toBe('old')
    expect(staleUses).toHaveLength(1)
    server.down = false
    server.keys = [...server.keys, await publicJwk('EdDSA', 'new')]
    clock.now += INTERVAL
    expect((await keys.keyFor({ alg: 'EdDSA', kid: 'new' })).jwk.kid).toBe('new')
  })

  test('the first fetch failing is IssuerUnreachable, not an unknown key', async () => {
    const { server, keys } = setup()
    server.down = true
    expect(await rejection(keys.keyFor({ alg: 'EdDSA', kid: 'any' }))).toBeInstanceOf(IssuerUnreachable)
  })

  test('a key removed from the set stops verifying once the set is older than the maximum age', async () => {
    const { server, clock, keys, changes } = setup({ maxAge: 10_000 })
    server.keys = [await publicJwk('EdDSA', 'old'), await publicJwk('EdDSA', 'new')]
    const old = await keys.keyFor({ alg: 'EdDSA', kid: 'old' })
    server.keys = server.keys.filter((k) => k.kid !== 'old')
    clock.now += 9_999
    expect(keys.isCurrent(old)).toBe(true)
    expect((await keys.keyFor({ alg: 'EdDSA', kid: 'old' })).jwk.kid).toBe('old')
    clock.now += 1
    expect(keys.isCurrent(old)).toBe(false)
    expect(await rejection(keys.keyFor({ alg: 'EdDSA', kid: 'old' }))).toBeInstanceOf(UnknownSigningKey)
    expect(changes).toEqual([{ added: [], removed: ['old'] }])
  })

  test('each algorithm is pinned to its key type: a kid naming a key of another type is refused without a fetch', async () => {
    const { server, keys } = setup()
    const published = await Promise.all(Object.keys(ISSUER_KEY_TYPES).map((alg) => publicJwk(alg, alg)))
    // The same RSA key published without `alg` serves both RSA algorithms; with one, only that one.
    const rsa = { ...(published.find((k) => k.kid === 'RS256') as JWK), kid: 'rsa-any', alg: undefined }
    server.keys = [...published, rsa]
    for (const alg of Object.keys(ISSUER_KEY_TYPES)) {
      expect((await keys.keyFor({ alg, kid: alg })).jwk.kid).toBe(alg)
      for (const other of Object.keys(ISSUER_KEY_TYPES).filter((a) => a !== alg))
        expect(await rejection(keys.keyFor({ alg, kid: other }))).toBeInstanceOf(UnknownSigningKey)
    }
    expect((await keys.keyFor({ alg: 'PS256', kid: 'rsa-any' })).jwk.kid).toBe('rsa-any')
    expect((await keys.keyFor({ alg: 'RS256', kid: 'rsa-any' })).jwk.kid).toBe('rsa-any')
    for (const alg of ['HS256', 'ES384', 'RS512', 'none', 'Ed25519'])
      expect(await rejection(keys.keyFor({ alg, kid: 'RS256' }))).toBeInstanceOf(UnknownSigningKey)
    expect(server.requests).toBe(1)
  })

  test('keys published for encryption, or RSA keys under 2048 bits, verify nothing', async () => {
    const { server, keys } = setup()
    // jose makes none under 2048 bits: WebCrypto does.
    const small = await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )
    server.keys = [
      { ...(await publicJwk('ES256', 'enc')), use: 'enc' },
      { ...(await publicJwk('ES256', 'ops')), key_ops: ['encrypt'] },
      { ...(await exportJWK(small.publicKey)), kid: 'small', alg: 'RS256' },
    ]
    for (const [alg, kid] of [
      ['ES256', 'enc'],
      ['ES256', 'ops'],
      ['RS256', 'small'],
    ])
      expect(await rejection(keys.keyFor({ alg, kid }))).toBeInstanceOf(UnknownSigningKey)
  })

  test('a token without a kid uses the one key of its type, and only when there is exactly one', async () => {
    const { server, clock, keys } = setup()
    server.keys = [await publicJwk('EdDSA', 'a'), await publicJwk('ES256', 'b')]
    expect((await keys.keyFor({ alg: 'EdDSA' })).jwk.kid).toBe('a')
    server.keys = [...server.keys, await publicJwk('EdDSA', 'c')]
    clock.now += MAX_AGE
    expect(await rejection(keys.keyFor({ alg: 'EdDSA' }))).toBeInstanceOf(UnknownSigningKey)
  })
})
