/// <reference path="../file-imports.d.ts" />
import initdbWasm from '@electric-sql/pglite/initdb.wasm' with { type: 'file' }
import fsBundle from '@electric-sql/pglite/pglite.data' with { type: 'file' }
import pgliteWasm from '@electric-sql/pglite/pglite.wasm' with { type: 'file' }

/**
 * PGlite's engine files, imported as files so `bun build --compile` embeds them: inside the
 * binary there is no node_modules for PGlite to find them in.
 */
export async function pgliteAssets() {
  const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
    WebAssembly.compile(await Bun.file(pgliteWasm).arrayBuffer()),
    WebAssembly.compile(await Bun.file(initdbWasm).arrayBuffer()),
  ])
  return { pgliteWasmModule, initdbWasmModule, fsBundle: Bun.file(fsBundle) }
}
