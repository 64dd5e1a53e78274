import { validationFailed } from './problem'

/**
 * Elysia keeps the last of repeated query parameters; for single-valued ones a repeat is
 * ambiguous (`?status=completed&status=pending`), so it is refused instead of guessed.
 */
export function rejectRepeatedParams(request: Request, names: readonly string[]): void {
  const params = new URL(request.url).searchParams
  const repeated = names.filter((name) => params.getAll(name).length > 1)
  if (repeated.length > 0)
    throw validationFailed(
      `The query parameters are invalid: ${repeated.map((n) => `${n} is given more than once`).join('; ')}.`,
      repeated.map((field) => ({ field, message: 'is given more than once' })),
    )
}

// A run of percent-escapes decodes as a whole: the bytes of one character are never split by
// anything but another escape.
const ESCAPES = /(?:%[0-9A-Fa-f]{2})+/g

const decodes = (raw: string) => {
  for (const [run] of raw.matchAll(ESCAPES)) {
    try {
      decodeURIComponent(run)
    } catch {
      return false
    }
  }
  return true
}

/**
 * Percent-escapes that are not UTF-8 (`%FF`, or `%ED%A0%80`, the bytes a lone surrogate would
 * have) reach handlers as the literal escape text, so `?q=%ED%A0%80` would search for that text.
 * Such a parameter is refused by name. A `%` not followed by two hex digits stays literal, as
 * URLSearchParams reads it.
 */
export function rejectUndecodableParams(request: Request): void {
  const url = request.url
  const start = url.indexOf('?')
  if (start < 0) return
  const names = new Set<string>()
  for (const pair of url.slice(start + 1).split('&')) {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? pair : pair.slice(0, eq)
    if (decodes(name) && (eq < 0 || decodes(pair.slice(eq + 1)))) continue
    const readable = decodes(name) ? name.replaceAll('+', ' ').replace(ESCAPES, decodeURIComponent) : 'query'
    names.add(readable.length > 100 ? `${readable.slice(0, 100)}…` : readable)
  }
  if (names.size === 0) return
  const message = 'is not percent-encoded UTF-8 (an unpaired surrogate or a stray byte)'
  const fields = [...names].slice(0, 20)
  throw validationFailed(
    `The query parameters are invalid: ${fields.map((n) => `${n} ${message}`).join('; ')}.`,
    fields.map((field) => ({ field, message })),
  )
}

const PLAIN_DECIMAL = /^[1-9]\d*$/

/**
 * Elysia's number coercion reads `limit=0x10` as 16 and `list_id=1e2` as 100: these parameters
 * must be plain decimals. Anything else becomes a value the schema refuses, naming the field.
 * For a transform hook, before validation.
 */
export function requirePlainDecimals(query: Record<string, unknown>, names: readonly string[]): void {
  for (const name of names)
    if (typeof query[name] === 'string' && !PLAIN_DECIMAL.test(query[name])) query[name] = 'not-a-number'
}
