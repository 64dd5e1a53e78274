import { t } from 'elysia'

/**
 * One of `values`. Elysia's UnionEnum sets `default` to its first value, so an absent optional
 * field would be filled in (a PATCH without `priority` would quietly make the task low
 * priority), and the document would claim a default there is none of. The key is removed
 * rather than set to undefined, which would still make Elysia fill in a missing body.
 */
export function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  options: Parameters<typeof t.UnionEnum>[1] = {},
) {
  const schema = t.UnionEnum(values, { errorMessage: `must be one of ${values.join(', ')}`, ...options })
  if (options.default === undefined) delete schema.default
  return schema
}
