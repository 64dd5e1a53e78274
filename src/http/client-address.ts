interface AddressSource {
  requestIP(request: Request): { address: string } | null
}

// Requests the server had to copy before routing (see short-host.ts) have no socket of their
// own; their client address travels here.
const copied = new WeakMap<Request, string>()

export function rememberClientAddress(request: Request, address: string | undefined): void {
  if (address) copied.set(request, address)
}

/** The client's address, for per-address limits; undefined when it cannot be known. */
export function clientAddress(request: Request, server: AddressSource | null, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    // The right-most entry is the one our proxy added; entries left of it come from the
    // client, which can write anything there.
    const forwarded = request.headers.get('x-forwarded-for')?.split(',').at(-1)?.trim()
    if (forwarded) return forwarded
  }
  return copied.get(request) ?? server?.requestIP(request)?.address
}
