import { Kind, type SchemaOptions, type TSchema, TypeRegistry } from '@sinclair/typebox'

/**
 * A string whose length limits count characters (code points), as JSON Schema defines them and
 * as Postgres's char_length does, not UTF-16 units as TypeBox's own `maxLength` does: a
 * 255-character title may hold 255 emoji. With `trim`, limits apply to the trimmed value, so a
 * blank string fails `minLength: 1`, and so does one of only invisible characters. U+0000 and
 * lone UTF-16 surrogates are never accepted (see `textProblem`).
 */
export interface TText extends TSchema {
  [Kind]: 'Text'
  static: string
  type: 'string'
  minLength?: number
  maxLength?: number
  trim?: boolean
  /** A regular expression (Unicode mode) the trimmed value must match; tested only within the length limits. */
  pattern?: string
}

// Postgres text cannot hold U+0000; refusing it here turns a would-be 500 into a 400.
const NUL = '\u0000'

/**
 * Why a string cannot be stored as given, or undefined. A lone surrogate (JSON `"\ud800"`) is
 * not Unicode: encoded as UTF-8 for Postgres (or for hashing a password) it silently became
 * U+FFFD, so what was stored was not what was sent, and different inputs became equal.
 */
export function textProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  if (!value.isWellFormed()) return 'contains a lone UTF-16 surrogate, which is not valid Unicode'
  if (value.includes(NUL)) return 'contains U+0000, which cannot be stored'
  return undefined
}
// Ends trimmed of every Unicode space plus the invisible zero-width space and BOM, which
// String.prototype.trim leaves in place (U+0085, U+200B, U+FEFF). Each is a single UTF-16 unit,
// all but the BOM at or below U+3000: a table of those units is built once from the expression.
const EDGE_SPACE = /[\p{White_Space}\u200b\ufeff]/u
const LAST_SPACE_BELOW_BOM = 0x3000
const BOM = 0xfeff
const SPACE_TABLE = Uint8Array.from({ length: LAST_SPACE_BELOW_BOM + 1 }, (_, c) =>
  EDGE_SPACE.test(String.fromCharCode(c)) ? 1 : 0,
)
const isEdgeSpace = (unit: number) => unit === BOM || (unit <= LAST_SPACE_BELOW_BOM && SPACE_TABLE[unit] === 1)
// Something visible: not a space, control or format character.
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}]/u

/**
 * Linear in the length: the regular expression it replaces (`\s+$`, in effect) restarted at every
 * space of the string, and took 20 s for a 64 KiB title of spaces between two letters.
 */
export function trimText(value: string): string {
  let start = 0
  let end = value.length
  while (start < end && isEdgeSpace(value.charCodeAt(start))) start++
  while (end > start && isEdgeSpace(value.charCodeAt(end - 1))) end--
  return start === 0 && end === value.length ? value : value.slice(start, end)
}

const characterCount = (value: string) => {
  let n = 0
  for (const _ of value) n++
  return n
}

const patterns = new Map<string, RegExp>()
const compiled = (pattern: string) => {
  let re = patterns.get(pattern)
  if (!re) {
    re = new RegExp(pattern, 'u')
    patterns.set(pattern, re)
  }
  return re
}

TypeRegistry.Set<TText>('Text', (schema, value) => {
  if (typeof value !== 'string' || textProblem(value) !== undefined) return false
  const text = schema.trim ? trimText(value) : value
  if (schema.trim && text.length > 0 && !VISIBLE.test(text)) return false
  const n = characterCount(text)
  if (n < (schema.minLength ?? 0) || n > (schema.maxLength ?? Number.POSITIVE_INFINITY)) return false
  // Last, so the expression only ever sees a value of bounded length.
  return !schema.pattern || compiled(schema.pattern).test(text)
})

export function Text(
  options: SchemaOptions & { minLength?: number; maxLength?: number; trim?: boolean; pattern?: string },
): TText {
  return { ...options, [Kind]: 'Text', type: 'string' } as TText
}
