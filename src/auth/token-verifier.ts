import { createRemoteJWKSet, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose'
import type { JwksConfig } from '../config'
import { ProblemError, serviceUnavailable, unauthorized } from '../http/problem'

export interface TokenClaims {
  sub: string
  email?: string
  name?: string
  /** The API's own tokens name the session (refresh-token family) they were issued for. */
  sid?: string
  /** Expiry in seconds since the epoch (always present: the verifier requires it). */
  exp?: number
}

export interface TokenVerifier {
  /** Resolves the claims of a valid token; rejects with a 401 (or 503) ProblemError. */
  verify(token: string): Promise<TokenClaims>
}

// Algorithms are pinned per key type: the shared secret only ever verifies HS256, and the
// JWKS only asymmetric algorithms, so a token can never pick its own verification method.
const SHARED_SECRET_ALGORITHMS = ['HS256']
const JWKS_ALGORITHMS = ['EdDSA', 'ES256', 'RS256']
const CLOCK_TOLERANCE_SECONDS = 30
const MAX_SUBJECT_LENGTH = 255
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const invalid = () => unauthorized('The access token is invalid.', 'invalid_token')

// Claims end up in Postgres text columns, which cannot hold U+0000.
const usable = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max && !value.includes('\u0000')

function optionalString(value: unknown, max: number): string | undefined {
  return usable(value, max) ? value : undefined
}

function claimsOf(payload: JWTPayload): TokenClaims {
  const sub = payload.sub
  if (!usable(sub, MAX_SUBJECT_LENGTH)) throw invalid()
  return {
    sub,
    email: optionalString(payload.email, 320),
    name: optionalString(payload.name, 100),
    // Only the API's own tokens carry a session id, always a UUID; anything else is ignored.
    sid: typeof payload.sid === 'string' && UUID.test(payload.sid) ? payload.sid : undefined,
    exp: payload.exp,
  }
}

/**
 * The JWKS could not be fetched or read (network error, timeout, HTTP error page, bad JSON):
 * the token may well be valid, so this is the issuer's outage (503), not the client's fault.
 */
function issuerUnavailable(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true
  return (
    error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error.code === 'ERR_JOSE_GENERIC' // jose's "Expected 200 OK from the JSON Web Key Set HTTP response"
  )
}

export function createTokenVerifier(options: { secret: string; jwks?: JwksConfig }): TokenVerifier {
  const secretKey = new TextEncoder().encode(options.secret)
  const jwks = options.jwks
  const remoteKeys = jwks ? createRemoteJWKSet(new URL(jwks.url), { timeoutDuration: 5000 }) : undefined

  async function verifyByAlgorithm(token: string, alg: unknown): Promise<JWTPayload> {
    const common = { requiredClaims: ['exp', 'sub'], clockTolerance: CLOCK_TOLERANCE_SECONDS }
    if (typeof alg === 'string' && SHARED_SECRET_ALGORITHMS.includes(alg))
      return (await jwtVerify(token, secretKey, { ...common, algorithms: SHARED_SECRET_ALGORITHMS })).payload
    if (remoteKeys && jwks && typeof alg === 'string' && JWKS_ALGORITHMS.includes(alg)) {
      const options = { ...common, algorithms: JWKS_ALGORITHMS, issuer: jwks.issuer, audience: jwks.audience }
      return (await jwtVerify(token, remoteKeys, options)).payload
    }
    throw invalid()
  }

  return {
    async verify(token) {
      let alg: unknown
      try {
        alg = decodeProtectedHeader(token).alg
      } catch {
        throw invalid()
      }
      try {
        return claimsOf(await verifyByAlgorithm(token, alg))
      } catch (error) {
        if (error instanceof ProblemError) throw error
        if (error instanceof errors.JWTExpired) throw unauthorized('The access token has expired.', 'invalid_token')
        if (issuerUnavailable(error))
          throw serviceUnavailable('The token issuer could not be reached to check the token.', error)
        throw invalid()
      }
    },
  }
}
