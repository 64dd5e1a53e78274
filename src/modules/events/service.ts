import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { streamTickets } from '../../db/schema'

/** How long a stream ticket can be used: enough to open an EventSource, too short to leak usefully. */
export const TICKET_TTL_SECONDS = 60

const hash = (ticket: string) => new Bun.CryptoHasher('sha256').update(ticket).digest('hex')

/**
 * A random single-use ticket for the events route, stored hashed so that any instance accepts
 * it and the database never holds one that works. Expired tickets (anyone's) go at the same
 * time, through the expiry index: nothing else sweeps the table.
 */
export async function createTicket(db: Db, userId: string): Promise<{ ticket: string; expiresAt: Date }> {
  const ticket = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  await db.delete(streamTickets).where(lt(streamTickets.expiresAt, sql`now()`))
  const [row] = await db
    .insert(streamTickets)
    .values({
      ticketHash: hash(ticket),
      userId,
      expiresAt: sql`now() + make_interval(secs => ${TICKET_TTL_SECONDS})`,
    })
    .returning({ expiresAt: streamTickets.expiresAt })
  return { ticket, expiresAt: row?.expiresAt as Date }
}

/**
 * The user a ticket was issued to, once: marking it used and checking it is one statement, so
 * two instances given the same ticket at once cannot both accept it. The database's clock
 * decides expiry, the same for every instance.
 */
export async function redeemTicket(db: Db, ticket: string): Promise<string | undefined> {
  const [row] = await db
    .update(streamTickets)
    .set({ usedAt: sql`now()` })
    .where(
      and(
        eq(streamTickets.ticketHash, hash(ticket)),
        isNull(streamTickets.usedAt),
        gt(streamTickets.expiresAt, sql`now()`),
      ),
    )
    .returning({ userId: streamTickets.userId })
  return row?.userId
}
