import { type SQL, sql } from 'drizzle-orm'

const WORD = /[\p{L}\p{N}]+/gu
const MAX_WORDS = 16

/** The words of a search, as Postgres's parser would split them into letters and digits. */
export const searchWords = (q: string): string[] => (q.match(WORD) ?? []).slice(0, MAX_WORDS)

/**
 * A tsquery in which every word must match, either by its English stem ("meetings" finds
 * "meeting") or as the plain word (stop words such as "the" still count), and the last word
 * also as a prefix of a plain word ("meet" finds "Meeting"). Words go in as placeholders
 * (`searchValues`) and hold only letters and digits, so nothing in `q` is read as tsquery syntax.
 */
export function searchQuery(wordCount: number): SQL {
  const parts = Array.from({ length: wordCount }, (_, i) => {
    const word = sql.placeholder(`w${i}`)
    const plain =
      i === wordCount - 1
        ? sql`to_tsquery('simple', ${sql.placeholder('prefix')})`
        : sql`plainto_tsquery('simple', ${word})`
    return sql`(plainto_tsquery('english', ${word}) || ${plain})`
  })
  return sql.join(parts, sql` && `)
}

export function searchValues(words: readonly string[]): Record<string, string> {
  return { ...Object.fromEntries(words.map((word, i) => [`w${i}`, word])), prefix: `${words.at(-1)}:*` }
}
