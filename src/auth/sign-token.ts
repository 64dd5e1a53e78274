import { SignJWT } from 'jose'

/** An HS256 access token in the shape this API verifies (`sub`, `iat`, `exp`). */
export function signAccessToken(
  secret: string,
  userId: string,
  ttlSeconds: number,
  claims: Record<string, unknown> = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret))
}
