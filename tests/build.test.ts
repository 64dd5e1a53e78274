import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import packageJson from '../package.json'
import { brokenBuildReason } from '../src/build-integrity'

// The whole HTTP suite runs against the binary in CI (TEST_BINARY); these check the guard
// that keeps a mis-built binary from serving at all.
describe('build integrity', () => {
  test('the source as it runs keeps the class names Elysia relies on', () => {
    expect(brokenBuildReason()).toBeUndefined()
  })

  test('a bundle with minified identifiers is recognised as broken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'todo-api-build-'))
    const entry = join(dir, 'entry.ts')
    writeFileSync(
      entry,
      `import { brokenBuildReason } from ${JSON.stringify(join(import.meta.dir, '../src/build-integrity'))}\nconsole.log(brokenBuildReason() ?? 'intact')\n`,
    )
    const build = async (identifiers: boolean) => {
      const out = await Bun.build({
        entrypoints: [entry],
        outdir: join(dir, identifiers ? 'mangled' : 'kept'),
        target: 'bun',
        minify: { identifiers, syntax: true, whitespace: true },
      })
      expect(out.success).toBe(true)
      const run = Bun.spawnSync(['bun', out.outputs[0]?.path as string], { stdout: 'pipe' })
      return run.stdout.toString().trim()
    }
    expect(await build(true)).toContain('TransformDecodeError')
    expect(await build(false)).toBe('intact')
  })

  test('`bun run build` does not minify identifiers', () => {
    const script = packageJson.scripts.build
    expect(script).not.toMatch(/--minify(\s|$)|--minify-identifiers/)
  })
})
