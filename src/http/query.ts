import { validationFailed } from './problem'

/**
 * Elysia keeps the last of repeated query parameters; for single-valued ones a repeat is
 * ambiguous (`?status=completed&status=pending`), so it is refused instead of guessed.
 */
export function rejectRepeatedParams(request: Request, names: readonly string[]): void {
  const params = new URL(request.url).searchParams
  const repeated = names.filter((name) => params.getAll(name).length > 1)
  if (repeated.length > 0)
    throw validationFailed(
      `The query parameters are invalid: ${repeated.map((n) => `${n} is given more than once`).join('; ')}.`,
      repeated.map((field) => ({ field, message: 'is given more than once' })),
    )
}
