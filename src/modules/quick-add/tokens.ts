import type { Priority } from '../tasks/model'

/** A list the user has, as `@name` can name it. */
export interface NamedList {
  id: number
  name: string
}

export type Token =
  | { kind: 'tag'; start: number; end: number; tag: string }
  | { kind: 'priority'; start: number; end: number; priority: Priority }
  | { kind: 'list'; start: number; end: number; list: NamedList }

// A marker (#, !, @) starts a token only at the start of a word: "C#", "a@b.c" and "wow!" stay text.
// Format characters count as a word's edge, so bidirectional marks around a tag do not hide it.
const WORD_EDGE = /[\p{White_Space}\p{Cf}]/u
const atWordStart = (text: string, i: number) => i === 0 || WORD_EDGE.test(text[i - 1] as string)
// The end of a word: what follows is not a letter, digit or underscore.
const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u
const endsWord = (text: string, i: number) => i >= text.length || !WORD_CHAR.test(text[i] as string)

// A tag runs to the next space or punctuation that cannot end a tag; a trailing full stop is
// the sentence's, not the tag's. Commas are never in tags (the tag rule).
const TAG_BODY = /[^\p{White_Space}\p{Cf}#,!?;:()[\]{}"'<>]+/uy
const PRIORITY = /!(low|medium|high|[123])/iuy
const NUMBERED: Record<string, Priority> = { '1': 'high', '2': 'medium', '3': 'low' }

/** A `@name` of one of `lists` at `at` (the `@`): the longest name that matches, in any case. */
function listAt(text: string, at: number, lists: readonly { list: NamedList; key: string }[]) {
  for (const candidate of lists) {
    const end = at + 1 + candidate.list.name.length
    if (end > text.length || !endsWord(text, end)) continue
    if (
      text
        .slice(at + 1, end)
        .normalize('NFC')
        .toLowerCase() === candidate.key
    )
      return { end, list: candidate.list }
  }
  return undefined
}

/**
 * The `#tag`, `!priority` and `@list` tokens of `text`, in order. Only the first priority and
 * the first list count; a later one, an unknown `@name`, a lone `#` and a `#123` (a number:
 * an issue or a rank more often than a tag) stay in the title.
 */
export function findTokens(text: string, lists: readonly NamedList[]): Token[] {
  const byLength = lists
    .map((list) => ({ list, key: list.name.normalize('NFC').toLowerCase() }))
    .sort((a, b) => b.list.name.length - a.list.name.length)
  const tokens: Token[] = []
  let priority = false
  let list = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if ((c !== '#' && c !== '!' && c !== '@') || !atWordStart(text, i)) continue
    if (c === '#') {
      TAG_BODY.lastIndex = i + 1
      const body = TAG_BODY.exec(text)?.[0].replace(/\.+$/, '')
      if (!body || /^\d+$/.test(body)) continue
      tokens.push({ kind: 'tag', start: i, end: i + 1 + body.length, tag: body })
    } else if (c === '!') {
      PRIORITY.lastIndex = i
      const m = PRIORITY.exec(text)
      if (priority || !m || !endsWord(text, PRIORITY.lastIndex)) continue
      const word = (m[1] as string).toLowerCase()
      tokens.push({
        kind: 'priority',
        start: i,
        end: PRIORITY.lastIndex,
        priority: NUMBERED[word] ?? (word as Priority),
      })
      priority = true
    } else {
      const found = list ? undefined : listAt(text, i, byLength)
      if (!found) continue
      tokens.push({ kind: 'list', start: i, end: found.end, list: found.list })
      list = true
    }
    i = (tokens.at(-1) as Token).end - 1
  }
  return tokens
}
