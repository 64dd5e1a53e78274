/** `Link: <...>; rel="next"` for a paged route: this request's URL with the page size and the next cursor. */
export function nextPageLink(request: Request, limit: number, cursor: string): string {
  const next = new URL(request.url)
  next.searchParams.set('limit', String(limit))
  next.searchParams.set('cursor', cursor)
  return `<${next.pathname}${next.search}>; rel="next"`
}
