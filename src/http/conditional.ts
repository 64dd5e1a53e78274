/**
 * Entity tags and the conditional request headers (RFC 9110, section 13). A task's or list's
 * tag is its version, which only grows: equal tags mean the same representation.
 */
export const etagOf = (version: number | string) => `"${version}"`

const TAG = /^\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*$/

/** The opaque tags a header lists, with whether each is weak; `*` as itself. */
function tagsOf(header: string): '*' | { weak: boolean; value: string }[] {
  if (header.trim() === '*') return '*'
  const tags: { weak: boolean; value: string }[] = []
  for (const part of header.split(',')) {
    const match = TAG.exec(part)
    if (match) tags.push({ weak: match[1] !== undefined, value: match[2] as string })
  }
  return tags
}

/**
 * `If-Match` as the versions it allows: undefined without the header (no condition), `'any'`
 * for `*` (the resource must exist), else the versions of the strong tags it lists. A weak tag
 * or anything malformed matches nothing (strong comparison), so it fails with a 412.
 */
export function ifMatchVersions(request: Request): number[] | 'any' | undefined {
  const header = request.headers.get('if-match')
  if (header === null) return undefined
  const tags = tagsOf(header)
  if (tags === '*') return 'any'
  return tags.filter((t) => !t.weak && /^[1-9]\d{0,9}$/.test(t.value)).map((t) => Number(t.value))
}

/** Whether `If-None-Match` names `etag` (weak comparison) or is `*`: a GET answers 304. */
export function noneMatchHits(request: Request, etag: string): boolean {
  const header = request.headers.get('if-none-match')
  if (header === null) return false
  const tags = tagsOf(header)
  if (tags === '*') return true
  const value = etag.slice(1, -1)
  return tags.some((t) => t.value === value)
}

/** What `If-Match` asked for: versions, any existing version, or (undefined) nothing. */
export type Expected = readonly number[] | 'any' | undefined

/** Whether a resource at `version` meets `expected`. */
export const versionMatches = (expected: Expected, version: number) =>
  expected === undefined || expected === 'any' || expected.includes(version)
