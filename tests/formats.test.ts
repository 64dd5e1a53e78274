import { expect, test } from 'bun:test'
import { Value } from '@sinclair/typebox/value'
import { t } from 'elysia'
import '../src/schema/formats'

test('date-time accepts RFC 3339 with an offset and nothing looser', () => {
  const schema = t.String({ format: 'date-time' })
  for (const ok of ['2026-01-31T09:15:00.000Z', '2026-01-31T09:15:00Z', '2026-01-31T09:15:00.123456+05:30'])
    expect(Value.Check(schema, ok)).toBe(true)
  for (const bad of ['2026-01-31', '2026-01-31 09:15:00Z', '2026-01-31T09:15:00', 'Sat Jan 31 2026', '', 'x'])
    expect(Value.Check(schema, bad)).toBe(false)
})
