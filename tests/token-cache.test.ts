import { describe, expect, test } from 'bun:test'
import { cachingVerifier } from '../src/auth/token-cache'
import type { TokenClaims, TokenVerifier } from '../src/auth/token-verifier'
import { unauthorized } from '../src/http/problem'

/** A verifier that counts its calls and accepts tokens named "good-<exp>". */
function counting(): TokenVerifier & { calls: number } {
  const verifier = {
    calls: 0,
    async verify(token: string): Promise<TokenClaims> {
      verifier.calls++
      const exp = /^good-(\d+)$/.exec(token)?.[1]
      if (!exp) throw unauthorized('The access token is invalid.', 'invalid_token')
      return { sub: `user-${token}`, exp: Number(exp) }
    },
  }
  return verifier
}

describe('the verified-token cache', () => {
  test('checks a token once while it is valid, and again once it has expired (with the 30 s leeway)', async () => {
    let now = 1_000_000_000
    const inner = counting()
    const verifier = cachingVerifier(inner, { now: () => now })
    const token = `good-${now / 1000 + 60}`
    expect((await verifier.verify(token)).sub).toBe(`user-${token}`)
    await verifier.verify(token)
    expect(inner.calls).toBe(1)
    now += 89_000
    await verifier.verify(token)
    expect(inner.calls).toBe(1)
    now += 2_000
    await verifier.verify(token)
    expect(inner.calls).toBe(2)
  })

  test('never remembers a refusal', async () => {
    const inner = counting()
    const verifier = cachingVerifier(inner)
    for (let i = 0; i < 3; i++) await expect(verifier.verify('bad')).rejects.toMatchObject({ status: 401 })
    expect(inner.calls).toBe(3)
  })

  test('is bounded: past `max` tokens the oldest is checked again', async () => {
    const inner = counting()
    const verifier = cachingVerifier(inner, { max: 2 })
    const exp = Math.floor(Date.now() / 1000) + 600
    const [a, b, c] = [`good-${exp}`, `good-${exp + 1}`, `good-${exp + 2}`]
    for (const token of [a, b, c]) await verifier.verify(token)
    await verifier.verify(c)
    await verifier.verify(b)
    expect(inner.calls).toBe(3)
    await verifier.verify(a)
    expect(inner.calls).toBe(4)
  })
})
