// PostgreSQL's text form of a timestamptz (DateStyle ISO): "2026-03-29 01:30:00.5+02",
// "0001-01-01 00:00:00+00", "1883-11-18 12:03:58+00:53:28" (an old local mean time), "... BC";
// in JSON (to_jsonb) the same with a `T`: "1883-11-18T12:03:58+00:53:28".
const TIMESTAMPTZ =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?( BC)?$/

/**
 * The instant a timestamptz's text names, exactly. `new Date(text)` (what Drizzle does) reads
 * years below 100 as 19xx or 20xx in this form, so "0001-01-01 00:00:00+00" came back as 2001.
 * Anything else (`infinity`) goes to `new Date` as before.
 */
export function instantFromText(text: string): Date {
  const m = TIMESTAMPTZ.exec(text)
  if (!m) return new Date(text)
  const [, year, month, day, hour, minute, second, fraction = '', sign, offsetH, offsetM = '0', offsetS = '0', bc] = m
  const date = new Date(0)
  // setUTCFullYear takes the year as it is (Date.UTC would move 0–99 to 1900–1999).
  date.setUTCFullYear(bc ? 1 - Number(year) : Number(year), Number(month) - 1, Number(day))
  date.setUTCHours(Number(hour), Number(minute), Number(second), Number(fraction.padEnd(3, '0').slice(0, 3)))
  const offsetSeconds = Number(offsetH) * 3600 + Number(offsetM) * 60 + Number(offsetS)
  return new Date(date.getTime() - (sign === '-' ? -1 : 1) * offsetSeconds * 1000)
}
