// Lints the OpenAPI document with Spectral (its `oas` ruleset) and Redocly (`recommended`),
// both pinned in package.json: any error fails, warnings are printed. The document is the one
// the given build prints (`todo-api openapi`), so CI lints what ships.
//
//   bun scripts/lint-openapi.ts              # the source
//   bun scripts/lint-openapi.ts dist/todo-api
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dir, '..')
const binary = Bun.argv[2]
const command = binary ? [resolve(binary), 'openapi'] : ['bun', join(root, 'src/main.ts'), 'openapi']
const dir = mkdtempSync(join(tmpdir(), 'todo-api-openapi-'))
const printed = Bun.spawnSync(command, {
  cwd: dir,
  env: { PATH: Bun.env.PATH ?? '', BETTER_AUTH_SECRET: 'lint-secret-that-is-long-enough-0123456789', DATA_DIR: dir },
  stdout: 'pipe',
  stderr: 'inherit',
})
if (printed.exitCode !== 0) process.exit(printed.exitCode ?? 1)
const document = join(dir, 'openapi.json')
writeFileSync(document, printed.stdout)

const bin = (name: string) => join(root, 'node_modules/.bin', name)
const linters = [
  [
    'Spectral',
    [bin('spectral'), 'lint', '--ruleset', join(root, '.spectral.yaml'), '--fail-severity', 'error', document],
  ],
  ['Redocly', [bin('redocly'), 'lint', '--config', join(root, 'redocly.yaml'), document]],
] as const
let failed = false
for (const [name, args] of linters) {
  console.log(`== ${name}`)
  const run = Bun.spawnSync([...args], { cwd: root, stdout: 'inherit', stderr: 'inherit' })
  if (run.exitCode !== 0) failed = true
}
console.log(failed ? 'OpenAPI lint: errors found' : 'OpenAPI lint: no errors')
process.exit(failed ? 1 : 0)
