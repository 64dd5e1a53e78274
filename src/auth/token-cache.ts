import type { TokenClaims, TokenVerifier } from './token-verifier'

// The verifier accepts a token until this long after its `exp`, so the cache does too.
const CLOCK_TOLERANCE_MS = 30_000

/**
 * Remembers the claims of tokens that verified, until each token expires, so a client sending
 * the same token on every request pays for the signature check once. Bounded: past `max`
 * entries the oldest go first. Only successes are kept; a bad token is checked every time. A
 * token verified by an issuer's key is checked again once that key may have left the key set.
 */
export function cachingVerifier(verifier: TokenVerifier, { max = 10_000, now = Date.now } = {}): TokenVerifier {
  const verified = new Map<string, { claims: TokenClaims; until: number }>()
  return {
    async verify(token) {
      const hit = verified.get(token)
      if (hit && hit.until > now() && hit.claims.stillVerifiable?.() !== false) return hit.claims
      if (hit) verified.delete(token)
      const claims = await verifier.verify(token)
      if (claims.exp !== undefined) {
        if (verified.size >= max) verified.delete(verified.keys().next().value as string)
        verified.set(token, { claims, until: claims.exp * 1000 + CLOCK_TOLERANCE_MS })
      }
      return claims
    },
  }
}
