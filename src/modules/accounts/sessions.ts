import { createHash, createHmac, randomBytes } from 'node:crypto'
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

async function addRefreshToken(db: Db, sessionId: string, ttlSeconds: number, token = newRefreshToken()) {
  await db.insert(refreshTokens).values({
    tokenHash: hashToken(token),
    sessionId,
    expiresAt: new Date(Date.now() + ttlSeconds * 1000),
  })
  return token
}

/**
 * The token that replaces `token` when it is exchanged: derived from it with the server's
 * secret, so it can be handed out again to a second request presenting `token` within the grace
 * period without ever being stored. Unpredictable without the secret, like a random one.
 */
const successorOf = (secret: string, token: string) =>
  createHmac('sha256', secret).update(`todo-api refresh successor\0${token}`).digest('base64url')

// A grace reuse follows exchanges made since; a longer chain within the grace is not a browser.
const MAX_SUCCESSOR_HOPS = 8

/** A new sign-in: a session (token family) and its first refresh token. Call in a transaction. */
export async function startSession(db: Db, userId: string, ttlSeconds: number): Promise<IssuedSession> {
  const sessionId = Bun.randomUUIDv7()
  await db.insert(sessions).values({ id: sessionId, userId })
  return { userId, sessionId, refreshToken: await addRefreshToken(db, sessionId, ttlSeconds) }
}

export interface RotationPolicy {
  ttlSeconds: number
  /** Within this many seconds of an exchange, the same token may be presented again. */
  graceSeconds: number
  /** Derives successor tokens (see `successorOf`). */
  secret: string
  /** Told when a token is presented after its grace period and its session is revoked for it. */
  onReuse?: (session: { userId: string; sessionId: string }) => void
}

/**
 * The session's newest live token, found by following successors from `token`, which was
 * exchanged: what a second request presenting `token` within the grace period gets, so every
 * such answer carries the same token, the one the session will accept next.
 */
async function newestSuccessor(db: Db, sessionId: string, token: string, secret: string) {
  let candidate = token
  for (let hop = 0; hop < MAX_SUCCESSOR_HOPS; hop++) {
    candidate = successorOf(secret, candidate)
    const [row] = await db
      .select({ usedAt: refreshTokens.usedAt, expiresAt: refreshTokens.expiresAt })
      .from(refreshTokens)
      .where(and(eq(refreshTokens.tokenHash, hashToken(candidate)), eq(refreshTokens.sessionId, sessionId)))
    if (!row) return undefined
    if (!row.usedAt) return row.expiresAt.getTime() > Date.now() ? candidate : undefined
  }
  return undefined
}

/**
 * Exchanges a refresh token for its successor. A token exchanged before is either a second
 * request of the same client within the grace period (two tabs refreshing at once, a retry):
 * it gets the session's newest token, so whichever answer the client keeps works; or, after the
 * grace period, a sign that someone else holds a copy: the whole family is revoked and the
 * caller gets a 401, as does the thief on their next try.
 *
 * The row lock serialises concurrent exchanges of one token (PGlite has a single connection):
 * the first exchanges it, the others then find it exchanged, within the grace period.
 */
export async function rotateRefreshToken(db: Db, presented: string, policy: RotationPolicy): Promise<IssuedSession> {
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
      if (Date.now() - row.usedAt.getTime() <= policy.graceSeconds * 1000) {
        const newest = await newestSuccessor(tx, row.sessionId, presented, policy.secret)
        if (newest) return { userId: row.userId, sessionId: row.sessionId, refreshToken: newest }
      }
      await tx.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, row.sessionId))
      return { reused: { userId: row.userId, sessionId: row.sessionId } }
    }
    if (row.expiresAt.getTime() <= Date.now()) return 'invalid' as const
    await tx
      .update(refreshTokens)
      .set({ usedAt: new Date() })
      .where(eq(refreshTokens.tokenHash, hashToken(presented)))
    const successor = successorOf(policy.secret, presented)
    const refreshToken = await addRefreshToken(tx, row.sessionId, policy.ttlSeconds, successor)
    return { userId: row.userId, sessionId: row.sessionId, refreshToken }
  })
  if (typeof outcome === 'string') throw invalidRefreshToken()
  if ('reused' in outcome && outcome.reused) {
    policy.onReuse?.(outcome.reused)
    throw invalidRefreshToken()
  }
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

/** Revokes one session by id, if it is this user's (a token's `sid` names only its own subject's). */
export async function revokeSession(db: Db, userId: string, sessionId: string): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
}

/** Revokes every live session of the user, except `keep` when given. */
export async function revokeSessions(db: Db, userId: string, keep?: string): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), keep ? ne(sessions.id, keep) : undefined))
}
