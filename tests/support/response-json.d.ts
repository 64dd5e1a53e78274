// Tests read many response bodies and assert their shape with `expect`; typing each one first
// would add noise, not safety.
interface Response {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  json(): Promise<any>
}
