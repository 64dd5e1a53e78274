import { type SQL, type SQLWrapper, sql } from 'drizzle-orm'

/**
 * How an email is stored: trimmed, in Unicode normal form C, lower-cased. `josé@example.com`
 * typed as one precomposed é (NFC) or as e plus a combining accent (NFD, as macOS keyboards
 * may send it) is one address, and one account.
 */
export const normaliseEmail = (value: string) => value.trim().normalize('NFC').toLowerCase()

/**
 * The same comparison in SQL: the expression of the unique index `users_email_lower_key`, so
 * a lookup by it uses the index, and rows written around the API are held to it too.
 */
export const emailKey = (email: SQLWrapper) => sql`lower(normalize(${email}, NFC))`

/** Whether a stored email column equals a given address under that comparison. */
export const emailMatches = (column: SQLWrapper, address: string): SQL =>
  sql`${emailKey(column)} = ${emailKey(sql`${address}::text`)}`
