/**
 * The deepest nesting of arrays and objects a request body may have; the body's own object
 * counts as the first level. No route takes more than two (an object holding a list of tags).
 */
export const MAX_JSON_DEPTH = 32

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d

/**
 * True when the JSON text nests arrays and objects deeper than `max`. One pass over the text,
 * before it is parsed: a deeply nested value is refused before anything builds it, walks it or
 * serialises it (each of which costs far more than this scan). Brackets inside strings do not
 * count; the text need not be valid JSON (the parser decides that afterwards).
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) inString = true
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--
  }
  return false
}
