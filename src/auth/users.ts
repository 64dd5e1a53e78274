import { eq, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { normaliseEmail } from '../db/email-key'
import { constraintViolation } from '../db/errors'
import { users } from '../db/schema'
import { unauthorized } from '../http/problem'
import type { Logger } from '../logger'
import type { TokenClaims } from './token-verifier'

const REMEMBERED_USERS = 50_000
// What this process wrote for a user is trusted this long before the database is asked again:
// another instance may have applied a newer profile meanwhile.
const RECHECK_AFTER_MS = 10 * 60_000

interface Remembered {
  /** Digest of the profile claims last written or found applied; undefined: the row exists. */
  claims: string | undefined
  /** Their `iat`, in ms. */
  issuedAt: number
  checkedAt: number
}

const digestOf = (name: string | undefined, email: string | undefined) =>
  new Bun.CryptoHasher('sha256').update(JSON.stringify([name ?? null, email ?? null])).digest('base64url')

/**
 * Keeps the users table in step with the tokens it sees. A user seen for the first time (Better
 * Auth users exist elsewhere first) gets a row from its claims. A token whose `name` or `email`
 * claims differ from the ones last applied, and that is not older than them (`iat`), updates the
 * profile: a change made at the issuer shows with the first newer token. The claims last applied
 * are remembered per user, so steady traffic costs no query at all.
 *
 * A claim a token does not carry leaves the stored value alone, and a token without `iat` (which
 * cannot be ordered) only ever creates the row. Email addresses are never a reason to link or
 * merge accounts; an issuer's address that a password account owns is kept apart (see the
 * schema's `users_password_email_key`), and a user that signs in with a password keeps its
 * previous address when the issuer's new one belongs to another such account.
 */
export function createUserProvisioner(
  db: Db,
  { logger, now = Date.now }: { logger?: Logger; now?: () => number } = {},
): (claims: TokenClaims) => Promise<void> {
  const remembered = new Map<string, Remembered>()
  const remember = (key: string, entry: Remembered) => {
    if (remembered.size >= REMEMBERED_USERS && !remembered.has(key)) remembered.clear()
    remembered.set(key, entry)
  }

  const applyProfile = (row: typeof users.$inferInsert, { keepEmail }: { keepEmail: boolean }): Promise<unknown> =>
    db
      .insert(users)
      .values(row)
      .onConflictDoUpdate({
        target: users.id,
        set: {
          name: sql`coalesce(excluded.name, ${users.name})`,
          email: keepEmail ? sql`${users.email}` : sql`coalesce(excluded.email, ${users.email})`,
          profileClaims: sql`excluded.profile_claims`,
          profileClaimsAt: sql`excluded.profile_claims_at`,
          updatedAt: sql`now()`,
        },
        // Same claims as last applied (whatever was renamed since): nothing to do; an older
        // token than the one applied never reverts a newer profile.
        setWhere: sql`${users.profileClaims} is distinct from excluded.profile_claims
          and (${users.profileClaimsAt} is null or ${users.profileClaimsAt} <= excluded.profile_claims_at)`,
      })

  // An issuer's subject that is an account signed up here is not that account (see `localAccount`).
  const refuseLocalAccount = async (sub: string) => {
    const [row] = await db.select({ local: users.localAccount }).from(users).where(eq(users.id, sub))
    if (row?.local)
      throw unauthorized(
        "The token's subject is an account of this API, which the token's issuer cannot sign in as.",
        'invalid_token',
      )
  }

  return async (claims) => {
    // Tokens of the issuer and of the shared secret are remembered apart: the shared secret's
    // tokens (this API's own) may name a local account, and must not vouch for the issuer's.
    const key = claims.fromIssuer ? `issuer\0${claims.sub}` : claims.sub
    const seen = remembered.get(key)
    const fresh = seen !== undefined && now() - seen.checkedAt < RECHECK_AFTER_MS
    if (claims.fromIssuer && !fresh) await refuseLocalAccount(claims.sub)
    const email = claims.email === undefined ? undefined : normaliseEmail(claims.email)
    const row = { id: claims.sub, email: email ?? null, name: claims.name ?? null }
    // A token from the future (a skewed issuer clock) counts as issued now, so it cannot hold
    // back the profile changes of the tokens after it.
    const issuedAt = claims.iat === undefined ? undefined : Math.min(claims.iat * 1000, now())
    if ((claims.name === undefined && email === undefined) || issuedAt === undefined) {
      if (seen) return
      await db.insert(users).values(row).onConflictDoNothing({ target: users.id })
      remember(key, { claims: undefined, issuedAt: Number.NEGATIVE_INFINITY, checkedAt: now() })
      return
    }
    const digest = digestOf(claims.name, email)
    if (fresh && (seen.claims === digest || issuedAt < seen.issuedAt)) return
    const profile = { ...row, profileClaims: digest, profileClaimsAt: new Date(issuedAt) }
    try {
      await applyProfile(profile, { keepEmail: false })
    } catch (error) {
      // The user signs in with a password too, and the issuer's new address is another
      // password account's: the profile changes, the address stays what it was.
      if (constraintViolation(error) !== '23505') throw error
      logger?.warn("the issuer's email of a user belongs to another account; kept the previous one", {
        user_id: claims.sub,
      })
      await applyProfile(profile, { keepEmail: true })
    }
    remember(key, { claims: digest, issuedAt, checkedAt: now() })
  }
}
