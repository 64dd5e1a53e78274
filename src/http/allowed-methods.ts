interface RouteLike {
  method: string
  path: string
}

interface PathMethods {
  pattern: RegExp
  methods: Set<string>
}

// The CORS plugin answers OPTIONS on every path (`/*`, and `/`): that makes OPTIONS one of
// every path's methods, but no path exists because of it.
const PREFLIGHT = 'OPTIONS'

const escapeRegExp = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&')

/** Elysia's reading of a route pattern: `:name` is one segment, a trailing `*` is the rest. */
function patternOf(path: string): RegExp {
  const body = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : escapeRegExp(segment)))
    .join('/')
  // Without `strictPath`, Elysia treats a trailing slash as the same path.
  return new RegExp(`^${body}/?$`)
}

/**
 * The methods each path of the app has, read from the app's own route table (built on first
 * use, when every route is registered). For a path no route has it answers undefined (a 404);
 * otherwise the sorted list for an `Allow` header.
 */
export function allowedMethods(routes: () => readonly RouteLike[]): (path: string) => string[] | undefined {
  let table: PathMethods[] | undefined
  const build = () => {
    const byPath = new Map<string, Set<string>>()
    for (const { method, path } of routes()) {
      const methods = byPath.get(path) ?? new Set()
      methods.add(method)
      byPath.set(path, methods)
    }
    return [...byPath].map(([path, methods]) => ({ pattern: patternOf(path), methods }))
  }
  return (path) => {
    table ??= build()
    const methods = new Set<string>()
    let exists = false
    for (const entry of table) {
      if (!entry.pattern.test(path)) continue
      for (const method of entry.methods) {
        methods.add(method)
        if (method !== PREFLIGHT) exists = true
      }
    }
    if (!exists) return undefined
    // Elysia answers HEAD wherever it answers GET.
    if (methods.has('GET')) methods.add('HEAD')
    return [...methods].sort()
  }
}

/**
 * Which routes declare a body, read from the app's own route table on first use: `method` and
 * Elysia's pattern of the matched route (the context's `route`).
 */
export function routesWithBody(
  routes: () => readonly (RouteLike & { hooks: { body?: unknown } })[],
): (method: string, route: string) => boolean {
  let withBody: Set<string> | undefined
  return (method, route) => {
    withBody ??= new Set(routes().flatMap((r) => (r.hooks.body === undefined ? [] : [`${r.method} ${r.path}`])))
    return withBody.has(`${method} ${route}`)
  }
}
