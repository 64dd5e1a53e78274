import { TransformDecodeError } from '@sinclair/typebox/value'
import { Elysia } from 'elysia'

/**
 * Elysia recognises some of its parts by class name (`error.constructor.name ===
 * 'TransformDecodeError'` in the code it generates for validation, `constructor.name ===
 * 'Elysia'` for plugins). A build that renames classes (`bun build --minify-identifiers`; Bun's
 * `--keep-names` does not keep class names) silently swallows query decoding errors: `?limit=0`
 * was answered 200. This check refuses to start such a build instead of serving it.
 */
export function brokenBuildReason(): string | undefined {
  const renamed = [
    { name: TransformDecodeError.name, expected: ['TransformDecodeError'] },
    // Elysia accepts either spelling: its bundle declares the class as `_Elysia`.
    { name: Elysia.name, expected: ['Elysia', '_Elysia'] },
  ].filter(({ name, expected }) => !expected.includes(name))
  if (renamed.length === 0) return undefined
  const names = renamed.map(({ expected }) => expected[0]).join(', ')
  return `this build renamed classes that Elysia identifies by name (${names}): build without --minify-identifiers`
}
