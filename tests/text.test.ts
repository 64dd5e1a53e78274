import { expect, test } from 'bun:test'
import { trimText } from '../src/schema/text'

test('trimming strips exactly the Unicode spaces, U+200B and the BOM, at both ends only', () => {
  const space = /[\p{White_Space}\u200b\ufeff]/u
  for (let unit = 0; unit <= 0xffff; unit++) {
    const c = String.fromCharCode(unit)
    const expected = space.test(c) ? 'a b' : `${c}a b${c}`
    if (trimText(`${c}a b${c}`) !== expected) throw new Error(`U+${unit.toString(16)} trimmed wrongly`)
  }
  expect(trimText(' \u0085\u3000 x\u00a0y \ufeff\u200b')).toBe('x\u00a0y')
})

test('trimming takes time in proportion to the length, whatever the spaces', () => {
  const hostile = `a${' '.repeat(60_000)}a`
  const started = performance.now()
  for (let i = 0; i < 10; i++) expect(trimText(hostile)).toBe(hostile)
  expect(trimText(` ${hostile} `)).toBe(hostile)
  expect(trimText(' '.repeat(60_000))).toBe('')
  // Linear: well under a millisecond each; the old expression took seconds for one.
  expect(performance.now() - started).toBeLessThan(500)
})
