import { createHash, randomBytes } from 'node:crypto'
import { and, eq, isNull, ne } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { refreshTokens, sessions } from '../../db/schema'
import { unauthorized } from '../../http/problem'

// 256 bits of randomness, base64url: what the client holds. Only its SHA-256 is stored.
const newRefreshToken = () => randomBytes(32).toString('base64url')
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

const invalidRefreshToken = () =>
  unauthorized('The refresh token is invalid, expired or revoked; sign in again.', 'invalid_token')

export interface IssuedSession {
  userId: string
  sessionId: string
  refreshToken: string
}

async function addRefreshToken(db: Db, sessionId: string, ttlSeconds: number): Promise<string> {
  const token = newRefreshToken()
  await db.insert(refreshTokens).values({
    tokenHash: hashToken(token),
    sessionId,
    expiresAt: new Date(Date.now() + ttlSeconds * 1000),
  })
  return token
}

/** A new sign-in: a session (token family) and its first refresh token. Call in a transaction. */
export async function startSession(db: Db, userId: string, ttlSeconds: number): Promise<IssuedSession> {
  const sessionId = Bun.randomUUIDv7()
  await db.insert(sessions).values({ id: sessionId, userId })
  return { userId, sessionId, refreshToken: await addRefreshToken(db, sessionId, ttlSeconds) }
}

/**
 * Exchanges a refresh token for a new one. A token that was already exchanged means someone
 * else holds a copy: the whole family is revoked (after the transaction commits) and the
 * caller gets a 401, as does the thief on their next try.
 */
export async function rotateRefreshToken(db: Db, presented: string, ttlSeconds: number): Promise<IssuedSession> {
  const outcome = await db.transaction(async (tx) => {
    const [row] = await tx
      .select({
        sessionId: refreshTokens.sessionId,
        usedAt: refreshTokens.usedAt,
        expiresAt: refreshTokens.expiresAt,
        userId: sessions.userId,
        revokedAt: sessions.revokedAt,
      })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .where(eq(refreshTokens.tokenHash, hashToken(presented)))
      .for('update')
    if (!row || row.revokedAt) return 'invalid' as const
    if (row.usedAt) {
      await tx.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, row.sessionId))
      return 'reused' as const
    }
    if (row.expiresAt.getTime() <= Date.now()) return 'invalid' as const
    await tx
      .update(refreshTokens)
      .set({ usedAt: new Date() })
      .where(eq(refreshTokens.tokenHash, hashToken(presented)))
    const refreshToken = await addRefreshToken(tx, row.sessionId, ttlSeconds)
    return { userId: row.userId, sessionId: row.sessionId, refreshToken }
  })
  if (typeof outcome === 'string') throw invalidRefreshToken()
  return outcome
}

/** Revokes the session the refresh token belongs to, if it is this user's. */
export async function revokeSessionOfToken(db: Db, userId: string, presented: string): Promise<void> {
  const [row] = await db
    .select({ sessionId: refreshTokens.sessionId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashToken(presented)))
  if (!row) return
  await db
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(sessions.id, row.sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
}

/** Revokes every live session of the user, except `keep` when given. */
export async function revokeSessions(db: Db, userId: string, keep?: string): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), keep ? ne(sessions.id, keep) : undefined))
}
