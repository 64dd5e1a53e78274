import { Kind, type SchemaOptions, type TSchema, TypeRegistry } from '@sinclair/typebox'

/**
 * A string whose length limits count characters (code points), as JSON Schema defines them and
 * as Postgres's char_length does, not UTF-16 units as TypeBox's own `maxLength` does: a
 * 255-character title may hold 255 emoji. With `trim`, limits apply to the trimmed value, so a
 * blank string fails `minLength: 1`, and so does one of only invisible characters. U+0000 is never
 * accepted.
 */
export interface TText extends TSchema {
  [Kind]: 'Text'
  static: string
  type: 'string'
  minLength?: number
  maxLength?: number
  trim?: boolean
  /** A regular expression (Unicode mode) the trimmed value must match. */
  pattern?: string
}

// Postgres text cannot hold U+0000; refusing it here turns a would-be 500 into a 400.
const NUL = '\u0000'
// Ends trimmed of every Unicode space plus the invisible zero-width space and BOM, which
// String.prototype.trim leaves in place (U+0085, U+200B, U+FEFF).
const EDGE_SPACE = /^[\p{White_Space}\u200b\ufeff]+|[\p{White_Space}\u200b\ufeff]+$/gu
// Something visible: not a space, control or format character.
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}]/u

export const trimText = (value: string) => value.replace(EDGE_SPACE, '')

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
  if (typeof value !== 'string' || value.includes(NUL)) return false
  const text = schema.trim ? trimText(value) : value
  if (schema.trim && text.length > 0 && !VISIBLE.test(text)) return false
  if (schema.pattern && !compiled(schema.pattern).test(text)) return false
  const n = characterCount(text)
  return n >= (schema.minLength ?? 0) && n <= (schema.maxLength ?? Number.POSITIVE_INFINITY)
})

export function Text(
  options: SchemaOptions & { minLength?: number; maxLength?: number; trim?: boolean; pattern?: string },
): TText {
  return { ...options, [Kind]: 'Text', type: 'string' } as TText
}
