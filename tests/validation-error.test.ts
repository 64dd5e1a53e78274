import { expect, test } from 'bun:test'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { t, ValidationError } from 'elysia'

// patches/elysia@1.4.30.patch: Elysia's own message serialised the whole rejected value (pretty-
// printed, with up to 64 of its errors) whether or not anyone read it: seconds of CPU and
// gigabytes for one nested 64 KiB body, and the submitted password inside the message.
test("Elysia's ValidationError never carries the rejected value in its message", () => {
  const schema = t.Object({ email: t.String(), password: t.String({ maxLength: 8 }) }, { additionalProperties: false })
  const value = {
    email: 'ada@example.com',
    password: 'hunter2-but-longer',
    note: Array.from({ length: 5000 }, () => [[['x']]]),
  }
  const before = process.cpuUsage()
  const error = new ValidationError('body', TypeCompiler.Compile(schema), value)
  const used = process.cpuUsage(before)
  expect(error.message).not.toContain('hunter2')
  expect(error.message).not.toContain('ada@example.com')
  expect(error.message.length).toBeLessThan(200)
  expect((used.user + used.system) / 1000).toBeLessThan(20)
})
