import { trimText } from '../../schema/text'

/** Tags compare by this key: the same letters in any case (and any Unicode composition) are one tag. */
export const tagKey = (tag: string) => trimText(tag).normalize('NFC').toLowerCase()

/** Trims, drops case-insensitive duplicates (the first spelling wins) and keeps the given order. */
export function normaliseTags(given: readonly string[]): { tags: string[]; keys: string[] } {
  const tags: string[] = []
  const keys: string[] = []
  for (const raw of given) {
    const tag = trimText(raw).normalize('NFC')
    const key = tag.toLowerCase()
    if (keys.includes(key)) continue
    keys.push(key)
    tags.push(tag)
  }
  return { tags, keys }
}
