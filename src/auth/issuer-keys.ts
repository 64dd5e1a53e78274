import { importJWK, type JWK } from 'jose'

/**
 * Every algorithm Better Auth's JWT plugin can sign with (`jwks.keyPairConfig.alg`), each with
 * the only key type it may be checked against. A token cannot choose how it is verified: its
 * `alg` must be one of these, and the key it names must be of that type.
 */
export const ISSUER_KEY_TYPES: Readonly<Record<string, { kty: string; crv?: string }>> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES512: { kty: 'EC', crv: 'P-521' },
  PS256: { kty: 'RSA' },
  RS256: { kty: 'RSA' },
}
export const ISSUER_ALGORITHMS = Object.keys(ISSUER_KEY_TYPES)

/** The issuer publishes no usable key for this token: the token is bad (401). */
export class UnknownSigningKey extends Error {
  constructor() {
    super('the issuer publishes no key for this token')
  }
}

/** The key set could not be fetched: the token may be valid, so 503 and try again later. */
export class IssuerUnreachable extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    cause: unknown,
  ) {
    super('the JWKS could not be fetched', { cause })
  }
}

export interface IssuerKeysOptions {
  url: string
  /** Least time between two fetches of the key set, whatever asks for them (ms). */
  refetchIntervalMs: number
  /** A key set older than this is fetched again before use, so removed keys stop working (ms). */
  maxAgeMs: number
  timeoutMs?: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  /** Key ids that appeared or left the set; a fetch that failed while older keys were still used. */
  onChange?: (change: { added: string[]; removed: string[] }) => void
  onStaleUse?: (error: unknown, ageMs: number) => void
}

/** A key of the issuer's set that verified a token. */
export interface PublishedKey {
  key: CryptoKey
  jwk: JWK
}

export interface IssuerKeys {
  /**
   * The published key for a token's protected header. An unknown `kid` makes the set be fetched
   * again, at most once per refetch interval: a request waits (at most that interval) for a
   * fetch that started after it arrived, so a key the issuer has just added is found on the
   * first request that uses it. Rejects with UnknownSigningKey (no such key even in a fresh
   * set) or IssuerUnreachable (the set cannot be fetched).
   */
  keyFor(header: { alg?: unknown; kid?: unknown }): Promise<PublishedKey>
  /** Whether a key is still in a key set younger than the maximum age. */
  isCurrent(key: PublishedKey): boolean
}

interface KeySet {
  jwks: JWK[]
  fetchStartedAt: number
  /** Which fetch this set came from: fetches are numbered from 1 as they start. */
  fetchNumber: number
  imported: Map<JWK, Map<string, Promise<CryptoKey | undefined>>>
}

interface Attempt {
  number: number
  startedAt: number
  done: Promise<void>
  settled: boolean
  failed: boolean
  error?: unknown
}

const MIN_RSA_BITS = 2048

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Whether a published key may verify tokens of `alg`: its type, curve, `alg`, `use` and `key_ops` allow it. */
function fits(jwk: JWK, alg: string): boolean {
  const type = ISSUER_KEY_TYPES[alg]
  if (!type || jwk.kty !== type.kty || (type.crv !== undefined && jwk.crv !== type.crv)) return false
  if (jwk.alg !== undefined && jwk.alg !== alg) return false
  if (jwk.use !== undefined && jwk.use !== 'sig') return false
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return false
  // What jose (and RFC 7518) require of RSA keys; jose would otherwise throw at verification.
  return type.kty !== 'RSA' || (typeof jwk.n === 'string' && Buffer.from(jwk.n, 'base64url').length * 8 >= MIN_RSA_BITS)
}

export function createIssuerKeys(options: IssuerKeysOptions): IssuerKeys {
  const { url, refetchIntervalMs, maxAgeMs, timeoutMs = 3000 } = options
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => Bun.sleep(ms))
  let current: KeySet | undefined
  let attempt: Attempt | undefined
  let fetchesStarted = 0

  async function download(): Promise<JWK[]> {
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (!response.ok) throw new Error(`the JWKS answered HTTP ${response.status}`)
    const body: unknown = await response.json()
    if (!isObject(body) || !Array.isArray(body.keys)) throw new Error('the JWKS answer has no "keys" array')
    return body.keys.filter(isObject) as JWK[]
  }

  function report(before: KeySet | undefined, after: KeySet) {
    if (!before || !options.onChange) return
    const ids = (set: KeySet) => new Set(set.jwks.map((k) => k.kid).filter((kid) => kid !== undefined))
    const [old, fresh] = [ids(before), ids(after)]
    const added = [...fresh].filter((kid) => !old.has(kid))
    const removed = [...old].filter((kid) => !fresh.has(kid))
    if (added.length > 0 || removed.length > 0) options.onChange({ added, removed })
  }

  /** Fetches the set once; all callers meanwhile share this one fetch. */
  function fetchNow(): Attempt {
    const started: Attempt = {
      number: ++fetchesStarted,
      startedAt: now(),
      settled: false,
      failed: false,
      done: Promise.resolve(),
    }
    started.done = download().then(
      (jwks) => {
        const fetched = { jwks, fetchStartedAt: started.startedAt, fetchNumber: started.number, imported: new Map() }
        report(current, fetched)
        current = fetched
        started.settled = true
      },
      (error) => {
        Object.assign(started, { settled: true, failed: true, error })
      },
    )
    attempt = started
    return started
  }

  /** The time left before another fetch is allowed (ms, 0 when it is). */
  const cooldown = () => (attempt ? Math.max(0, attempt.startedAt + refetchIntervalMs - now()) : 0)

  async function refreshIfOld(): Promise<void> {
    if (!current || now() - current.fetchStartedAt < maxAgeMs) return
    if (attempt && !attempt.settled) return attempt.done
    // A refresh that failed a moment ago: the keys at hand serve until the next may be tried.
    if (cooldown() > 0) return
    const refresh = fetchNow()
    await refresh.done
    if (refresh.failed) options.onStaleUse?.(refresh.error, now() - current.fetchStartedAt)
  }

  function importAs(set: KeySet, jwk: JWK, alg: string): Promise<CryptoKey | undefined> {
    const byAlg = set.imported.get(jwk) ?? new Map<string, Promise<CryptoKey | undefined>>()
    set.imported.set(jwk, byAlg)
    let imported = byAlg.get(alg)
    if (!imported) {
      // A key the issuer publishes but that cannot be read is no key at all.
      imported = importJWK({ ...jwk, alg }, alg).then(
        (key) => key as CryptoKey,
        () => undefined,
      )
      byAlg.set(alg, imported)
    }
    return imported
  }

  /** The key for `kid` and `alg` in `set`; `unusable` when the kid is there but not for `alg`. */
  async function lookup(
    set: KeySet,
    kid: string | undefined,
    alg: string,
  ): Promise<PublishedKey | 'unusable' | undefined> {
    const named = kid === undefined ? set.jwks : set.jwks.filter((k) => k.kid === kid)
    const candidates = named.filter((k) => fits(k, alg))
    // Without a kid the key must be unambiguous.
    const jwk = kid === undefined ? (candidates.length === 1 ? candidates[0] : undefined) : candidates[0]
    if (!jwk) return kid !== undefined && named.length > 0 ? 'unusable' : undefined
    const key = await importAs(set, jwk, alg)
    return key ? { key, jwk } : 'unusable'
  }

  return {
    async keyFor(header) {
      // Fetches started after this point see every key the issuer had when the token came.
      const fetchedBefore = fetchesStarted
      const { alg, kid } = header
      if (typeof alg !== 'string' || (kid !== undefined && typeof kid !== 'string')) throw new UnknownSigningKey()
      await refreshIfOld()
      for (;;) {
        const found = current && (await lookup(current, kid, alg))
        if (found === 'unusable') throw new UnknownSigningKey()
        if (found) return found
        // Not even in a set fetched after this request arrived: the issuer does not have it.
        if (current && current.fetchNumber > fetchedBefore) throw new UnknownSigningKey()
        if (attempt && !attempt.settled) {
          await attempt.done
          continue
        }
        const wait = cooldown()
        if (attempt?.failed && wait > 0) throw new IssuerUnreachable(Math.ceil(wait / 1000), attempt.error)
        if (wait > 0) await sleep(wait)
        else await fetchNow().done
      }
    },
    isCurrent({ jwk }) {
      if (!current || now() - current.fetchStartedAt >= maxAgeMs) return false
      return current.jwks.some((k) => k === jwk || (jwk.kid !== undefined && k.kid === jwk.kid))
    },
  }
}
