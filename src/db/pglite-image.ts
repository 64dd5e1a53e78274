/// <reference path="../file-imports.d.ts" />
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import image from './pglite-image.tar.gz' with { type: 'file' }

// Where scripts/make-pglite-image.ts writes the image (in the source tree, not the binary).
export const IMAGE_PATH = join(import.meta.dir, 'pglite-image.tar.gz')
export const IMAGE_MANIFEST_PATH = join(import.meta.dir, 'pglite-image.json')

const SEED_SUFFIX = '.seed-'

/**
 * Gives a folder with no database in it the ready-made one the build carries (made by initdb,
 * every migration of its day applied), so a first start costs what a restart does. A folder
 * with a database (PG_VERSION) is left alone.
 *
 * The image is unpacked beside the folder and renamed into place in one step, so a start that
 * dies half-way leaves either no database or a whole one, never a half one that would look
 * whole. The caller holds the data-directory lock, so no other process is seeding meanwhile.
 */
export async function seedDataDir(dir: string): Promise<boolean> {
  removeAbandonedSeeds(dir)
  if (existsSync(join(dir, 'PG_VERSION'))) return false
  const staging = `${dir}${SEED_SUFFIX}${process.pid}`
  try {
    await new Bun.Archive(await Bun.file(image).bytes()).extract(staging)
    // No PG_VERSION means no database: whatever is here is what an interrupted initdb left.
    rmSync(dir, { recursive: true, force: true })
    renameSync(staging, dir)
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  return true
}

/** Unpacked images of starts that died before their rename. */
function removeAbandonedSeeds(dir: string) {
  const parent = dirname(dir)
  const prefix = `${basename(dir)}${SEED_SUFFIX}`
  if (!existsSync(parent)) return
  for (const name of readdirSync(parent))
    if (name.startsWith(prefix)) rmSync(join(parent, name), { recursive: true, force: true })
}
