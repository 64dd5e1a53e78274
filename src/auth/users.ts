import type { Db } from '../db/client'
import { users } from '../db/schema'
import type { TokenClaims } from './token-verifier'

const REMEMBERED_USERS = 50_000

/**
 * Creates the row of a user the first time one of its tokens is seen (Better Auth users exist
 * elsewhere first). Remembers who already has a row, so the common case costs no query.
 */
export function createUserProvisioner(db: Db): (claims: TokenClaims) => Promise<void> {
  const known = new Set<string>()
  return async (claims) => {
    if (known.has(claims.sub)) return
    const row = { id: claims.sub, email: claims.email?.trim().toLowerCase() ?? null, name: claims.name ?? null }
    const inserted = await db.insert(users).values(row).onConflictDoNothing().returning({ id: users.id })
    // Nothing inserted: the id exists already, or the email belongs to another account; in
    // the second case the user still gets a row, without the email.
    if (inserted.length === 0)
      await db
        .insert(users)
        .values({ ...row, email: null })
        .onConflictDoNothing({ target: users.id })
    if (known.size >= REMEMBERED_USERS) known.clear()
    known.add(claims.sub)
  }
}
