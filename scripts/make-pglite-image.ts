// Writes the embedded database's ready-made data directory: a PGlite cluster made by initdb
// here, with every migration in drizzle/ applied, as src/db/pglite-image.tar.gz, and what it
// holds in src/db/pglite-image.json. A fresh DATA_DIR starts from it instead of running initdb
// on the user's machine (seconds of CPU and about a gigabyte of memory).
//
//   bun run db:image
// Run it after a PGlite upgrade (tests/pglite-image.test.ts fails until then) or after adding
// a migration (optional: a stale image still works, the newer migrations run at first start).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { drizzle } from 'drizzle-orm/pglite'
import { migrate } from 'drizzle-orm/pglite/migrator'
import { MIGRATIONS_FOLDER } from '../src/db/migrate'
import { pgliteAssets } from '../src/db/pglite-assets'
import { IMAGE_MANIFEST_PATH, IMAGE_PATH } from '../src/db/pglite-image'

const pglitePackage = await Bun.file(join(import.meta.dir, '../node_modules/@electric-sql/pglite/package.json')).json()
const dir = mkdtempSync(join(tmpdir(), 'todo-pglite-image-'))
try {
  const pg = new PGlite({ dataDir: join(dir, 'pglite'), ...(await pgliteAssets()) })
  await pg.waitReady
  await migrate(drizzle(pg), { migrationsFolder: MIGRATIONS_FOLDER })
  const migrations = (
    await pg.query<{ hash: string }>('select hash from drizzle.__drizzle_migrations order by created_at')
  ).rows.map((row) => row.hash)
  // A clean shutdown first: the image must not need crash recovery at every first start.
  await pg.close()
  const reopened = new PGlite({ dataDir: join(dir, 'pglite'), ...(await pgliteAssets()) })
  await reopened.waitReady
  const tarball = await reopened.dumpDataDir('gzip')
  await reopened.close()
  await Bun.write(IMAGE_PATH, tarball)
  await Bun.write(IMAGE_MANIFEST_PATH, `${JSON.stringify({ pglite: pglitePackage.version, migrations }, null, 2)}\n`)
  console.log(
    `wrote ${IMAGE_PATH} (${tarball.size} bytes): PGlite ${pglitePackage.version}, ${migrations.length} migrations`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
