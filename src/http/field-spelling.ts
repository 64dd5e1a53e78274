import { Elysia } from 'elysia'
import { validationFailed } from './problem'

// lowerCamelCase: starts with a lower-case letter and has at least one upper-case one. Other
// spellings (`DueDate`, `DUE_DATE`, `due-date`) are left as they are, and so are unknown.
const CAMEL_CASE = /^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$/

/** `dueDate` → `due_date`. */
export const snakeCaseOf = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

interface Spelling {
  /** Canonical name → the camelCase spelling the client used instead. */
  sent: Map<string, string>
  /** Fields sent in both spellings with different values. */
  conflicts: { field: string; camel: string }[]
}

const spellings = new WeakMap<Request, Spelling>()

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Renames each top-level camelCase key of a JSON object body to its snake_case name, in place,
 * so that validation and handlers only ever see the canonical names. Nested keys are values,
 * not field names (today no body nests an object; a future free-form object would be data).
 */
function canonicalise(request: Request, body: Record<string, unknown>): void {
  let spelling: Spelling | undefined
  for (const key of Object.keys(body)) {
    if (!CAMEL_CASE.test(key)) continue
    const canonical = snakeCaseOf(key)
    spelling ??= { sent: new Map(), conflicts: [] }
    const value = body[key]
    delete body[key]
    if (!Object.hasOwn(body, canonical)) {
      body[canonical] = value
      spelling.sent.set(canonical, key)
    } else if (!Bun.deepEquals(body[canonical], value, true)) spelling.conflicts.push({ field: canonical, camel: key })
  }
  if (spelling) spellings.set(request, spelling)
}

/** The name to report a field under: as the client spelled it (`dueDate.2` for `due_date.2`). */
export function spelledAs(request: Request): (field: string) => string {
  const sent = spellings.get(request)?.sent
  if (!sent || sent.size === 0) return (field) => field
  return (field) => {
    const dot = field.indexOf('.')
    const head = dot < 0 ? field : field.slice(0, dot)
    const spelled = sent.get(head)
    return spelled === undefined ? field : spelled + field.slice(head.length)
  }
}

/**
 * Request bodies accept every field in snake_case and in camelCase. Renaming happens before
 * validation (a transform); two spellings with different values are refused after the token
 * check and validation (before the handler), so a caller without a valid token learns nothing.
 */
export const fieldSpelling = () =>
  new Elysia({ name: 'field-spelling' })
    .onTransform({ as: 'global' }, ({ request, body }) => {
      if (isRecord(body)) canonicalise(request, body)
    })
    .onBeforeHandle({ as: 'global' }, ({ request }) => {
      const conflicts = spellings.get(request)?.conflicts
      if (!conflicts?.length) return
      const errors = conflicts.map(({ field, camel }) => ({
        field,
        message: `is given as both ${field} and ${camel}, with different values`,
      }))
      throw validationFailed(
        `The request body is invalid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`,
        errors,
      )
    })
