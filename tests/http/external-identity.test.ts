import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { SignJWT } from 'jose'
import { users } from '../../src/db/schema'
import { expectProblem, json, makeApp, TEST_SECRET } from '../support/app'

interface Session {
  user: { id: string }
  token: string
}

import { startBetterAuth } from '../support/better-auth'
import { sharedDatabase } from '../support/database'

// What the API keeps of users whose identity lives at an issuer (Better Auth): their profile
// follows the issuer's newer tokens, and an email address never joins two accounts.

const PASSWORD = 'correct horse battery'
const seconds = () => Math.floor(Date.now() / 1000)

async function rowOf(id: string) {
  const { db } = (await sharedDatabase()).database
  const [row] = await db.select().from(users).where(eq(users.id, id))
  return row
}

/** An HS256 token as a frontend sharing BETTER_AUTH_SECRET mints it, with a chosen `iat`. */
const minted = (sub: string, claims: Record<string, unknown>, iat: number) =>
  new SignJWT({ ...claims, iat })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime(seconds() + 600)
    .sign(new TextEncoder().encode(TEST_SECRET))

describe('profile changes at the issuer', () => {
  test('a new name and email at Better Auth show in /api/auth/me with the next token', async () => {
    const issuer = await startBetterAuth()
    const api = await makeApp({ env: issuer.env })
    const ann = await issuer.signUp('ann@example.com', 'Ann')
    const me = async () => (await api.request('GET', '/api/auth/me', { token: await issuer.token(ann.cookie) })).json()
    expect(await me()).toMatchObject({ id: ann.id, name: 'Ann', email: 'ann@example.com' })
    await issuer.rename(ann.cookie, 'Ann Smith')
    expect(await me()).toMatchObject({ name: 'Ann Smith', email: 'ann@example.com' })
    issuer.setEmail(ann.id, 'ann.smith@example.com')
    expect(await me()).toMatchObject({ name: 'Ann Smith', email: 'ann.smith@example.com' })
  })

  test('the same claims again write nothing, whatever the number of requests and tokens', async () => {
    const api = await makeApp()
    const now = seconds()
    const first = await minted('bo', { name: 'Bo', email: 'bo@example.com' }, now - 60)
    expect((await api.request('GET', '/api/auth/me', { token: first })).status).toBe(200)
    const written = await rowOf('bo')
    for (let i = 0; i < 5; i++) {
      const token = await minted('bo', { name: 'Bo', email: 'bo@example.com' }, now - 50 + i)
      expect((await api.request('GET', '/api/bo/tasks', { token })).status).toBe(200)
    }
    expect(await rowOf('bo')).toEqual(written)
  })

  test('an older token never reverts a newer profile', async () => {
    const api = await makeApp()
    const now = seconds()
    const older = await minted('cy', { name: 'Cy Old', email: 'old@example.com' }, now - 100)
    const newer = await minted('cy', { name: 'Cy New', email: 'new@example.com' }, now - 10)
    const me = async (token: string) => (await api.request('GET', '/api/auth/me', { token })).json()
    expect(await me(older)).toMatchObject({ name: 'Cy Old', email: 'old@example.com' })
    expect(await me(newer)).toMatchObject({ name: 'Cy New', email: 'new@example.com' })
    expect(await me(older)).toMatchObject({ name: 'Cy New', email: 'new@example.com' })
  })

  test('a name set here stays until the issuer changes its own; a token without a claim leaves that field alone', async () => {
    const api = await makeApp()
    const now = seconds()
    const token = await minted('di', { name: 'Di', email: 'di@example.com' }, now - 100)
    await api.request('GET', '/api/auth/me', { token })
    const renamed = await api.request('PATCH', '/api/auth/me', { token, body: { name: 'Diana (here)' } })
    expect((await json<{ name: string }>(renamed)).name).toBe('Diana (here)')
    const sameClaims = await minted('di', { name: 'Di', email: 'di@example.com' }, now - 50)
    const me = async (t: string) => (await api.request('GET', '/api/auth/me', { token: t })).json()
    expect(await me(sameClaims)).toMatchObject({ name: 'Diana (here)', email: 'di@example.com' })
    expect(await me(await minted('di', { email: 'di@example.com' }, now - 40))).toMatchObject({
      name: 'Diana (here)',
      email: 'di@example.com',
    })
    expect(await me(await minted('di', { name: 'Di B.' }, now - 30))).toMatchObject({
      name: 'Di B.',
      email: 'di@example.com',
    })
  })
})

describe('an external address that a password account owns', () => {
  test('is kept apart: two accounts, password login reaches only the local one, and no password can be set for the external one (409)', async () => {
    const issuer = await startBetterAuth()
    const api = await makeApp({ env: issuer.env })
    const local = await api.request('POST', '/api/auth/register', {
      body: { email: 'eve@example.com', password: PASSWORD, name: 'Local Eve' },
    })
    const localUser = (await json<Session>(local)).user
    const external = await issuer.signUp('Eve@Example.com', 'Issuer Eve')
    const token = await issuer.token(external.cookie)
    const me = await api.request('GET', '/api/auth/me', { token })
    expect(await me.json()).toMatchObject({ id: external.id, email: 'eve@example.com', name: 'Issuer Eve' })
    expect(external.id).not.toBe(localUser.id)

    // Each sees only its own tasks.
    await api.request('POST', '/api/me/tasks', { token, body: { title: 'issuer task' } })
    const login = await api.request('POST', '/api/auth/login', {
      body: { email: 'eve@example.com', password: PASSWORD },
    })
    const session = await json<Session>(login)
    expect(session.user.id).toBe(localUser.id)
    expect(await json(await api.request('GET', '/api/me/tasks', { token: session.token }))).toEqual([])

    const first = await api.request('POST', '/api/auth/password', { token, body: { new_password: 'mine now!' } })
    const problem = await expectProblem(first, 409, 'conflict')
    expect(problem.detail).toContain('Another account already signs in with')
    expect((await rowOf(external.id))?.passwordHash).toBeNull()
    const stillLocal = await api.request('POST', '/api/auth/login', {
      body: { email: 'eve@example.com', password: 'mine now!' },
    })
    await expectProblem(stillLocal, 401, 'unauthorized')
  })

  test('a user with a password keeps its address when the issuer changes it to one another password account owns', async () => {
    const api = await makeApp()
    const now = seconds()
    await api.request('POST', '/api/auth/register', {
      body: { email: 'taken@example.com', password: PASSWORD, name: 'Owner' },
    })
    const token = await minted('fay', { name: 'Fay', email: 'fay@example.com' }, now - 100)
    expect((await api.request('POST', '/api/auth/password', { token, body: { new_password: PASSWORD } })).status).toBe(
      204,
    )
    const moved = await minted('fay', { name: 'Fay T.', email: 'taken@example.com' }, now - 50)
    const me = await api.request('GET', '/api/auth/me', { token: moved })
    expect(await me.json()).toMatchObject({ name: 'Fay T.', email: 'fay@example.com' })
    const logged = (await api.logs()).filter((l) => String(l.msg).includes('belongs to another account'))
    expect(logged).toHaveLength(1)
    expect(JSON.stringify(logged)).not.toContain('taken@example.com')
    const login = await api.request('POST', '/api/auth/login', {
      body: { email: 'fay@example.com', password: PASSWORD },
    })
    expect((await json<Session>(login)).user.id).toBe('fay')
  })
})

describe("an issuer's subject that names an account of this API", () => {
  test('is refused (401): the issuer cannot sign in as a password account, read its tasks or change its profile', async () => {
    const api = await makeApp()
    const local = await json<Session>(
      await api.request('POST', '/api/auth/register', {
        body: { email: 'gil@example.com', password: PASSWORD, name: 'Gil' },
      }),
    )
    await api.request('POST', '/api/me/tasks', { token: local.token, body: { title: 'private' } })
    // The issuer hands out the local account's id: its administrators, an import, a custom id scheme.
    const issuer = await startBetterAuth({ userIds: [local.user.id] })
    const withIssuer = await makeApp({ env: issuer.env })
    const impostor = await issuer.signUp('mallory@example.com', 'Mallory')
    expect(impostor.id).toBe(local.user.id)
    const token = await issuer.token(impostor.cookie)
    for (const [method, path] of [
      ['GET', '/api/auth/me'],
      ['GET', '/api/me/tasks'],
      ['GET', `/api/${local.user.id}/tasks`],
    ] as const)
      await expectProblem(await withIssuer.request(method, path, { token }), 401, 'unauthorized')
    // After the local account's own token was seen (and remembered) too.
    expect((await withIssuer.request('GET', '/api/me/tasks', { token: local.token })).status).toBe(200)
    await expectProblem(await withIssuer.request('GET', '/api/me/tasks', { token }), 401, 'unauthorized')
    expect(await rowOf(local.user.id)).toMatchObject({ email: 'gil@example.com', name: 'Gil' })
    const login = await api.request('POST', '/api/auth/login', {
      body: { email: 'gil@example.com', password: PASSWORD },
    })
    expect(login.status).toBe(200)
  })

  test("an issuer's own users keep working, with a password set here too", async () => {
    const issuer = await startBetterAuth()
    const api = await makeApp({ env: issuer.env })
    const hal = await issuer.signUp('hal@example.com', 'Hal')
    const token = await issuer.token(hal.cookie)
    expect((await api.request('POST', '/api/auth/password', { token, body: { new_password: PASSWORD } })).status).toBe(
      204,
    )
    expect((await api.request('GET', '/api/me/tasks', { token: await issuer.token(hal.cookie) })).status).toBe(200)
    const login = await api.request('POST', '/api/auth/login', {
      body: { email: 'hal@example.com', password: PASSWORD },
    })
    expect((await json<Session>(login)).user.id).toBe(hal.id)
  })
})
