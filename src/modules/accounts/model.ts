import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import type { UserRow } from '../../db/schema'
import { Text } from '../../schema/text'

// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the mail
// server's job; this only catches typos.
// Surrounding spaces are allowed here because the value is trimmed before use. Invisible
// characters (zero-width, bidi controls, BOM) are not: they make look-alike addresses.
const VISIBLE = '[^\\s@\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u200b-\\u200f\\u2028-\\u202f\\u2060-\\u206f\\ufeff]'
const EMAIL_PATTERN = `^\\s*${VISIBLE}+@${VISIBLE}+\\.${VISIBLE}+\\s*$`

// A Text, whose length limit applies before the pattern: the pattern backtracks, and on a
// 64 KiB value took 30 s to refuse it.
const email = Text({
  maxLength: 254,
  pattern: EMAIL_PATTERN,
  description: 'Trimmed, in Unicode normal form C and lower-cased before use',
  errorMessage: 'must be a valid email address',
  examples: ['ada@example.com'],
})
const password = Text({
  minLength: 8,
  maxLength: 256,
  description: '8 to 256 characters',
  errorMessage: 'must be 8 to 256 characters',
  examples: ['correct horse battery staple'],
})
const name = Text({
  minLength: 1,
  maxLength: 100,
  trim: true,
  description: '1 to 100 characters after trimming',
  errorMessage: 'must be 1 to 100 characters and not blank',
  examples: ['Ada Lovelace'],
})
const refreshToken = Text({
  minLength: 1,
  maxLength: 512,
  errorMessage: 'must be the refresh_token from sign-in',
  examples: ['b3BhcXVlLXJhbmRvbS0yNTYtYml0cw'],
})

const closed = { additionalProperties: false } as const

export const RegisterBody = t.Object({ email, password, name }, closed)
export const LoginBody = t.Object(
  { email, password: Text({ minLength: 1, maxLength: 256, errorMessage: 'is required (at most 256 characters)' }) },
  closed,
)
export const RefreshBody = t.Object({ refresh_token: refreshToken }, closed)
/** No body at all is allowed too: the route turns it into `{}` before validation. */
export const LogoutBody = t.Object(
  { refresh_token: t.Optional(refreshToken) },
  {
    ...closed,
    description: 'With `refresh_token`, signs out its session; with no body or `{}`, the session of the access token',
  },
)
export const UpdateMeBody = t.Object({ name }, closed)
export const PasswordBody = t.Object(
  {
    current_password: t.Optional(
      Text({ maxLength: 256, description: 'Required when the account already has a password' }),
    ),
    new_password: password,
  },
  closed,
)

export const UserSchema = t.Object({
  id: t.String({ examples: ['0193b2c4-7d1e-7c4a-9f00-5b2a1c3d4e5f'] }),
  email: t.Union([t.String(), t.Null()], { examples: ['ada@example.com'] }),
  name: t.Union([t.String(), t.Null()], { examples: ['Ada Lovelace'] }),
  created_at: t.String({ format: 'date-time', examples: ['2026-01-31T09:15:00.000Z'] }),
})
export type User = typeof UserSchema.static

export const SessionSchema = t.Object({
  user: UserSchema,
  token: t.String({ description: 'Access token (HS256 JWT); send as Authorization: Bearer <token>' }),
  refresh_token: t.String({ description: 'Opaque; exchange at /api/auth/refresh. Single use.' }),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires', examples: [900] }),
})

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, created_at: row.createdAt.toISOString() }
}

/** The accounts module's named models: routes refer to them by name, and so does the OpenAPI document. */
export const accountModels = {
  User: UserSchema,
  Session: SessionSchema,
  Register: RegisterBody,
  Login: LoginBody,
  Refresh: RefreshBody,
  Logout: LogoutBody,
  UpdateMe: UpdateMeBody,
  ChangePassword: PasswordBody,
}
