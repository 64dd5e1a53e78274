import { rememberClientAddress } from './client-address'

type Fetch = (request: Request) => Response | Promise<Response>
interface Server {
  requestIP(request: Request): { address: string } | null
}

/**
 * Elysia finds the path by searching for "/" from index 11 of the URL, which assumes a host of
 * at least four characters: `Host: api` (a compose service on port 80) would break every route.
 * Without a usable Host at all (HTTP/1.0 without one, as HAProxy's health checks send, or an
 * empty or malformed one), Bun's URL is the bare path. Such requests are passed on with a
 * placeholder host; nothing in the app reads the host. The copy has no socket behind it, so its
 * client address is remembered for it here.
 */
export function withRoutableUrl(fetch: Fetch): (request: Request, server: Server) => Response | Promise<Response> {
  return (request, server) => {
    const url = request.url
    const pathStart = url.startsWith('/') ? 0 : url.indexOf('/', url.indexOf('//') + 2)
    if (pathStart === -1 || pathStart >= 11) return fetch(request)
    const routable = new Request(`http://localhost${url.slice(pathStart)}`, request)
    rememberClientAddress(routable, server.requestIP(request)?.address)
    return fetch(routable)
  }
}
