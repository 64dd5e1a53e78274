import { and, eq, isNull, sql } from 'drizzle-orm'
import { type Db, queryRows } from '../../db/client'
import { idempotencyKeys as keys } from '../../db/schema'

/** What a replay sends back: the first answer's status, body and the headers that matter. */
export interface StoredAnswer {
  status: number
  headers: Record<string, string>
  body: string
}

/** A claim held by the request that runs: finishing or releasing it needs the same claim. */
export interface Claim {
  userId: string
  key: string
  claimedAt: Date
}

export type ClaimResult =
  | { kind: 'claimed'; claim: Claim }
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'reused' }
  | { kind: 'in_use' }

export interface ClaimOptions {
  ttlSeconds: number
  /** A running claim older than this is abandoned (its request can no longer be answered). */
  abandonAfterSeconds: number
}

/**
 * Claims `key` for a request with `fingerprint`, in one statement: the insert wins, or takes over
 * a row that expired (not yet swept) or was abandoned; of two parallel first requests exactly
 * one gets the row. Otherwise the existing row says what the request gets.
 */
export async function claimKey(
  db: Db,
  userId: string,
  key: string,
  fingerprint: string,
  { ttlSeconds, abandonAfterSeconds }: ClaimOptions,
): Promise<ClaimResult> {
  // A row deleted between the insert and the read (a 5xx released it) is claimed on the next turn.
  for (let attempt = 0; attempt < 3; attempt++) {
    const [claimed] = await db
      .insert(keys)
      .values({ userId, key, fingerprint, expiresAt: sql`now() + ${ttlSeconds} * interval '1 second'` })
      .onConflictDoUpdate({
        target: [keys.userId, keys.key],
        set: {
          fingerprint,
          status: null,
          headers: null,
          body: null,
          createdAt: sql`now()`,
          expiresAt: sql`now() + ${ttlSeconds} * interval '1 second'`,
        },
        setWhere: sql`${keys.expiresAt} <= now() or (${keys.status} is null and ${keys.createdAt} < now() - ${abandonAfterSeconds} * interval '1 second')`,
      })
      .returning({ claimedAt: keys.createdAt })
    if (claimed) return { kind: 'claimed', claim: { userId, key, claimedAt: claimed.claimedAt } }
    const [row] = await db
      .select({ fingerprint: keys.fingerprint, status: keys.status, headers: keys.headers, body: keys.body })
      .from(keys)
      .where(and(eq(keys.userId, userId), eq(keys.key, key)))
    if (!row) continue
    if (row.fingerprint !== fingerprint) return { kind: 'reused' }
    if (row.status === null) return { kind: 'in_use' }
    return {
      kind: 'replay',
      answer: { status: row.status, headers: (row.headers ?? {}) as Record<string, string>, body: row.body ?? '' },
    }
  }
  return { kind: 'in_use' }
}

const heldBy = (claim: Claim) =>
  and(eq(keys.userId, claim.userId), eq(keys.key, claim.key), isNull(keys.status), eq(keys.createdAt, claim.claimedAt))

/** Keeps the answer for retries; a claim taken over meanwhile (abandoned) is left to its new owner. */
export async function storeAnswer(db: Db, claim: Claim, answer: StoredAnswer): Promise<void> {
  await db.update(keys).set({ status: answer.status, headers: answer.headers, body: answer.body }).where(heldBy(claim))
}

/** Gives the key up, so a retry runs the request again. */
export async function releaseKey(db: Db, claim: Claim): Promise<void> {
  await db.delete(keys).where(heldBy(claim))
}

/**
 * Deletes keys expired at `now`, `batchSize` rows per statement. Rows are picked `for update
 * skip locked`: instances sweeping at once each take rows the others are not deleting, and
 * none waits on another. Answers how many rows went.
 */
export async function sweepExpiredKeys(db: Db, now: Date, batchSize = 1000): Promise<number> {
  let total = 0
  for (;;) {
    const deleted = await queryRows<{ key: string }>(
      db,
      sql`delete from ${keys} where (${keys.userId}, ${keys.key}) in (
        select ${keys.userId}, ${keys.key} from ${keys}
        where ${keys.expiresAt} <= ${now.toISOString()}::timestamptz
        order by ${keys.expiresAt}
        limit ${batchSize}
        for update skip locked
      ) returning ${keys.key}`,
    )
    total += deleted.length
    if (deleted.length < batchSize) return total
  }
}
