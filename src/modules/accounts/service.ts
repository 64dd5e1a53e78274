import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm'
import { signAccessToken } from '../../auth/sign-token'
import type { AccountsConfig } from '../../config'
import type { Db } from '../../db/client'
import { emailMatches, normaliseEmail } from '../../db/email-key'
import { constraintViolation } from '../../db/errors'
import { users } from '../../db/schema'
import { ProblemError, rateLimited, unauthorized, validationFailed } from '../../http/problem'
import { ignoreQuota, type ReportQuota } from '../../http/rate-limit-headers'
import { trimText } from '../../schema/text'
import type { AddressLimits } from './address-limits'
import type { LoginThrottle } from './login-throttle'
import { toUser, type User } from './model'
import { hashingBusy, type PasswordHasher } from './passwords'
import {
  type IssuedSession,
  type RotationPolicy,
  revokeSession,
  revokeSessionOfToken,
  revokeSessions,
  rotateRefreshToken,
  startSession,
} from './sessions'

export interface AccountsDeps {
  db: Db
  secret: string
  config: AccountsConfig
  passwords: PasswordHasher
  throttle: LoginThrottle
  addressLimits: AddressLimits
}

export interface SignedIn {
  user: User
  token: string
  refresh_token: string
  expires_in: number
}

// One message for unknown email, wrong password and password-less account alike.
const badCredentials = () => unauthorized('The email or password is not correct.')

const currentPasswordWrong = (given: boolean) =>
  validationFailed('The current password is not correct.', [
    { field: 'current_password', message: given ? 'is not correct' : 'is required' },
  ])

async function signedIn(deps: AccountsDeps, user: User, session: IssuedSession): Promise<SignedIn> {
  const ttl = deps.config.accessTokenTtlSeconds
  const token = await signAccessToken(deps.secret, user.id, ttl, { sid: session.sessionId })
  return { user, token, refresh_token: session.refreshToken, expires_in: ttl }
}

export async function register(
  deps: AccountsDeps,
  input: { email: string; password: string; name: string; address?: string },
  report: ReportQuota = ignoreQuota,
) {
  // The cheapest refusals first: a flood costs neither database queries nor hashing slots.
  if (deps.passwords.busy()) throw hashingBusy()
  await deps.addressLimits.signUp(input.address, report)
  const passwordHash = await deps.passwords.hash(input.password)
  const email = normaliseEmail(input.email)
  try {
    const { user, session } = await deps.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(users)
        .values({ id: Bun.randomUUIDv7(), email, name: trimText(input.name), passwordHash, localAccount: true })
        .returning()
      if (!row) throw new Error('insert returned no row')
      return { user: toUser(row), session: await startSession(tx, row.id, deps.config.refreshTokenTtlSeconds) }
    })
    return signedIn(deps, user, session)
  } catch (error) {
    if (constraintViolation(error) === '23505')
      throw new ProblemError(409, 'conflict', 'An account with this email already exists.', {
        errors: [{ field: 'email', message: 'is already registered' }],
      })
    throw error
  }
}

export async function login(
  deps: AccountsDeps,
  input: { email: string; password: string; address?: string },
  report: ReportQuota = ignoreQuota,
) {
  const email = normaliseEmail(input.email)
  const keys = { email, address: input.address }
  // The attempt is counted before the password is checked: see createLoginThrottle.
  const wait = await deps.throttle.reserve(keys, report)
  if (wait > 0) throw rateLimited(wait)
  // Only accounts with a password own their address (users_password_email_key): at most one.
  const [row] = await deps.db
    .select()
    .from(users)
    .where(and(emailMatches(users.email, email), isNotNull(users.passwordHash)))
  const ok = row?.passwordHash
    ? await deps.passwords.verify(input.password, row.passwordHash)
    : await deps.passwords.verifyAgainstNothing(input.password)
  if (!row || !ok) throw badCredentials()
  await deps.throttle.succeeded(keys, report)
  const session = await deps.db.transaction((tx) => startSession(tx, row.id, deps.config.refreshTokenTtlSeconds))
  return signedIn(deps, toUser(row), session)
}

export async function refresh(
  deps: AccountsDeps,
  refreshToken: string,
  address?: string,
  report: ReportQuota = ignoreQuota,
  onReuse?: RotationPolicy['onReuse'],
) {
  await deps.addressLimits.refresh(address, report)
  const session = await rotateRefreshToken(deps.db, refreshToken, {
    ttlSeconds: deps.config.refreshTokenTtlSeconds,
    graceSeconds: deps.config.refreshReuseGraceSeconds,
    secret: deps.secret,
    onReuse,
  })
  const [row] = await deps.db.select().from(users).where(eq(users.id, session.userId))
  if (!row) throw badCredentials()
  return signedIn(deps, toUser(row), session)
}

/**
 * Signs out one session: the one `refreshToken` belongs to when given, else the one the access
 * token was issued for. An external token names no session of ours: nothing to close.
 */
export async function logout(db: Db, user: { id: string; sessionId?: string }, refreshToken?: string) {
  if (refreshToken !== undefined) await revokeSessionOfToken(db, user.id, refreshToken)
  else if (user.sessionId !== undefined) await revokeSession(db, user.id, user.sessionId)
}

export const logoutAll = (db: Db, userId: string) => revokeSessions(db, userId)

export async function getUser(db: Db, userId: string): Promise<User> {
  const [row] = await db.select().from(users).where(eq(users.id, userId))
  if (!row) throw unauthorized('The account no longer exists.', 'invalid_token')
  return toUser(row)
}

export async function rename(db: Db, userId: string, name: string): Promise<User> {
  const [row] = await db
    .update(users)
    .set({ name: trimText(name), updatedAt: sql`now()` })
    .where(eq(users.id, userId))
    .returning()
  if (!row) throw unauthorized('The account no longer exists.', 'invalid_token')
  return toUser(row)
}

/**
 * Sets a new password and signs out every other session. An account without a password (known
 * only through external tokens) sets its first one without `current_password`.
 */
export async function changePassword(
  deps: AccountsDeps,
  user: { id: string; sessionId?: string },
  input: { current_password?: string; new_password: string },
  report: ReportQuota = ignoreQuota,
) {
  const [row] = await deps.db.select().from(users).where(eq(users.id, user.id))
  if (!row) throw unauthorized('The account no longer exists.', 'invalid_token')
  if (row.passwordHash) {
    // Its own count, apart from login: a stolen access token must not lock the owner out of login.
    const keys = { account: row.id }
    const reportAsPassword: ReportQuota = (state) => report({ ...state, policy: 'password' })
    const wait = await deps.throttle.reserve(keys, reportAsPassword)
    if (wait > 0) throw rateLimited(wait)
    const current = input.current_password
    if (current === undefined || !(await deps.passwords.verify(current, row.passwordHash)))
      throw currentPasswordWrong(current !== undefined)
    await deps.throttle.succeeded(keys, reportAsPassword)
  }
  const passwordHash = await deps.passwords.hash(input.new_password)
  try {
    await deps.db.transaction(async (tx) => {
      // Only over the hash that was checked: of parallel changes made with one current password
      // (or parallel first passwords), the first wins, and for the others what they gave as
      // current (or its absence) is no longer so.
      const checked = row.passwordHash ? eq(users.passwordHash, row.passwordHash) : isNull(users.passwordHash)
      const changed = await tx
        .update(users)
        .set({ passwordHash, updatedAt: sql`now()` })
        .where(and(eq(users.id, user.id), checked))
        .returning({ id: users.id })
      if (changed.length === 0) throw currentPasswordWrong(input.current_password !== undefined)
      await revokeSessions(tx, user.id, user.sessionId)
    })
  } catch (error) {
    // A first password for a user whose issuer's address another account already logs in with.
    if (constraintViolation(error) === '23505')
      throw new ProblemError(
        409,
        'conflict',
        "Another account already signs in with this account's email address, so it cannot have a password here.",
      )
    throw error
  }
}
