import { describe, expect, test } from 'bun:test'
import { expectProblem, makeApp, tokenFor } from '../support/app'
import { startBetterAuth } from '../support/better-auth'

describe('a token that is not a JWT', () => {
  test("Better Auth's opaque session token gets a 401 that says which token to send", async () => {
    const issuer = await startBetterAuth()
    const api = await makeApp({ env: issuer.env })
    const { sessionToken } = await issuer.signUp('gil@example.com', 'Gil')
    const res = await api.request('GET', '/api/me/tasks', { token: sessionToken })
    const problem = await expectProblem(res, 401, 'unauthorized')
    expect(problem.detail).toContain('not a JWT this API accepts')
    expect(problem.detail).toContain('/api/auth/token')
    expect(problem.detail).not.toContain(sessionToken)
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  test('a header that is not "Bearer <token>" keeps its own message', async () => {
    const api = await makeApp()
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two words', await tokenFor('x')]) {
      const problem = await expectProblem(
        await api.request('GET', '/api/me/tasks', { headers: { authorization } }),
        401,
        'unauthorized',
      )
      expect(problem.detail).toBe('The Authorization header must be "Bearer <token>".')
    }
  })
})
