import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose'
import type { JwksConfig } from '../config'
import { ProblemError, serviceUnavailable, unauthorized } from '../http/problem'
import {
  createIssuerKeys,
  ISSUER_ALGORITHMS,
  type IssuerKeys,
  type IssuerKeysOptions,
  IssuerUnreachable,
  type PublishedKey,
  UnknownSigningKey,
} from './issuer-keys'

export interface TokenClaims {
  sub: string
  email?: string
  name?: string
  /** The API's own tokens name the session (refresh-token family) they were issued for. */
  sid?: string
  /** Issued-at, in seconds since the epoch, when the token says. */
  iat?: number
  /** Expiry in seconds since the epoch (always present: the verifier requires it). */
  exp?: number
  /**
   * For tokens checked against the issuer's key set: false once the key that verified the token
   * is no longer known to be published, so a remembered verification is made again.
   */
  stillVerifiable?: () => boolean
  /** Verified by the issuer's published keys (JWKS), not by the shared secret. */
  fromIssuer?: true
}

export interface TokenVerifier {
  /** Resolves the claims of a valid token; rejects with a 401 (or 503) ProblemError. */
  verify(token: string): Promise<TokenClaims>
}

// Algorithms are pinned per key type: the shared secret only ever verifies HS256, and the
// JWKS only the asymmetric algorithms, each against its own key type (see ISSUER_KEY_TYPES),
// so a token can never pick its own verification method.
const SHARED_SECRET_ALGORITHMS = ['HS256']
const CLOCK_TOLERANCE_SECONDS = 30
const MAX_SUBJECT_LENGTH = 255
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const invalid = () => unauthorized('The access token is invalid.', 'invalid_token')

// Claims end up in Postgres text columns, which cannot hold U+0000, and are sent as UTF-8, in
// which a lone surrogate silently becomes U+FFFD.
const usable = (value: unknown, max: number): value is string =>
  typeof value === 'string' &&
  value.length > 0 &&
  value.length <= max &&
  !value.includes('\u0000') &&
  value.isWellFormed()

// A subject is a user's primary key, compared exactly and shown in logs and paths. Besides
// what `usable` refuses: control characters (Cc), invisible format characters (Cf: zero-width
// spaces, bidi overrides, BOM), which make two different subjects look alike, and U+FFFD, which
// is what lone surrogates and undecodable bytes turn into, so several subjects would share it.
const UNREADABLE_IN_SUBJECT = /[\p{Cc}\p{Cf}\ufffd]/u
// `.` and `..` are dot-segments, which every URL resolves away: no path could name such a user.
const DOT_SEGMENT = /^\.\.?$/
const usableSubject = (value: unknown): value is string =>
  usable(value, MAX_SUBJECT_LENGTH) && !UNREADABLE_IN_SUBJECT.test(value) && !DOT_SEGMENT.test(value)

function optionalString(value: unknown, max: number): string | undefined {
  return usable(value, max) ? value : undefined
}

function claimsOf(payload: JWTPayload): TokenClaims {
  const sub = payload.sub
  if (!usableSubject(sub)) throw invalid()
  return {
    sub,
    email: optionalString(payload.email, 320),
    name: optionalString(payload.name, 100),
    // Only the API's own tokens carry a session id, always a UUID; anything else is ignored.
    sid: typeof payload.sid === 'string' && UUID.test(payload.sid) ? payload.sid : undefined,
    // jose has checked that `iat`, when present, is a number.
    iat: Number.isFinite(payload.iat) ? payload.iat : undefined,
    exp: payload.exp,
  }
}

export interface VerifierOptions {
  secret: string
  jwks?: JwksConfig
  /** Hooks of the issuer's key set (tests inject a clock; the app passes log hooks). */
  issuerKeys?: Partial<IssuerKeysOptions>
}

export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const secretKey = new TextEncoder().encode(options.secret)
  const jwks = options.jwks
  const issuerKeys: IssuerKeys | undefined = jwks
    ? createIssuerKeys({
        url: jwks.url,
        refetchIntervalMs: jwks.refetchIntervalSeconds * 1000,
        maxAgeMs: jwks.maxAgeSeconds * 1000,
        ...options.issuerKeys,
      })
    : undefined

  async function verifyByAlgorithm(token: string, alg: unknown): Promise<TokenClaims> {
    const common = { requiredClaims: ['exp', 'sub'], clockTolerance: CLOCK_TOLERANCE_SECONDS }
    if (typeof alg === 'string' && SHARED_SECRET_ALGORITHMS.includes(alg))
      return claimsOf((await jwtVerify(token, secretKey, { ...common, algorithms: SHARED_SECRET_ALGORITHMS })).payload)
    if (issuerKeys && jwks && typeof alg === 'string' && ISSUER_ALGORITHMS.includes(alg)) {
      let used: PublishedKey | undefined
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          used = await issuerKeys.keyFor(header)
          return used.key
        },
        { ...common, algorithms: ISSUER_ALGORITHMS, issuer: jwks.issuer, audience: jwks.audience },
      )
      const key = used as PublishedKey
      return { ...claimsOf(payload), fromIssuer: true, stillVerifiable: () => issuerKeys.isCurrent(key) }
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
        return await verifyByAlgorithm(token, alg)
      } catch (error) {
        if (error instanceof ProblemError) throw error
        if (error instanceof errors.JWTExpired) throw unauthorized('The access token has expired.', 'invalid_token')
        if (error instanceof IssuerUnreachable)
          throw serviceUnavailable(
            'The token issuer could not be reached to check the token.',
            error.cause,
            error.retryAfterSeconds,
          )
        if (error instanceof UnknownSigningKey || error instanceof errors.JOSEError) throw invalid()
        throw error
      }
    },
  }
}
