// RFC 5545 requires a VTIMEZONE for every TZID a calendar uses. It is written from the time
// zone data this process computes due instants with (Bun's ICU), as the explicit transitions of
// a span of years, so a client that reads the VTIMEZONE rather than the IANA name agrees with
// the API to the second.

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** `20260329T020000`: a wall-clock time in iCalendar's DATE-TIME form, without a zone. */
export const localText = (t: Temporal.PlainDateTime) =>
  `${pad(t.year, 4)}${pad(t.month)}${pad(t.day)}T${pad(t.hour)}${pad(t.minute)}${pad(t.second)}`

/** `+0130`, or `+013045` when the offset has seconds (UTC-OFFSET, RFC 5545 3.3.14). */
function offsetText(nanoseconds: number): string {
  const total = Math.round(nanoseconds / 1e9)
  const abs = Math.abs(total)
  const seconds = abs % 60
  return `${total < 0 ? '-' : '+'}${pad(Math.floor(abs / 3600))}${pad(Math.floor(abs / 60) % 60)}${seconds ? pad(seconds) : ''}`
}

/** Daylight saving time: an offset above the lower of the zone's January and July offsets that year. */
function isDaylight(tz: string, year: number, offset: number): boolean {
  const at = (month: number) => Temporal.PlainDate.from({ year, month, day: 1 }).toZonedDateTime(tz).offsetNanoseconds
  return offset > Math.min(at(1), at(7))
}

function observance(tz: string, localStart: Temporal.PlainDateTime, from: number, to: number): string[] {
  const kind = isDaylight(tz, localStart.year, to) ? 'DAYLIGHT' : 'STANDARD'
  return [
    `BEGIN:${kind}`,
    `DTSTART:${localText(localStart)}`,
    `TZOFFSETFROM:${offsetText(from)}`,
    `TZOFFSETTO:${offsetText(to)}`,
    `END:${kind}`,
  ]
}

/**
 * The VTIMEZONE of `tz` from the start of `fromYear` to the start of `untilYear`: the offset in
 * force at the start, then one observance per transition (DTSTART in the local time before it,
 * as RFC 5545 3.6.5 has it). Past the last one a client keeps the last offset.
 */
export function vtimezone(tz: string, fromYear: number, untilYear: number): string {
  let at = Temporal.PlainDate.from({ year: fromYear, month: 1, day: 1 }).toZonedDateTime(tz)
  const end = Temporal.PlainDate.from({ year: untilYear, month: 1, day: 1 }).toZonedDateTime(tz)
  const lines = ['BEGIN:VTIMEZONE', `TZID:${tz}`]
  lines.push(...observance(tz, at.toPlainDateTime(), at.offsetNanoseconds, at.offsetNanoseconds))
  for (;;) {
    const next = at.getTimeZoneTransition('next')
    if (!next || Temporal.ZonedDateTime.compare(next, end) >= 0) break
    const before = at.offsetNanoseconds
    // The wall-clock time the transition happens at, read with the offset in force before it.
    const local = next.toInstant().toZonedDateTimeISO('UTC').toPlainDateTime().add({ nanoseconds: before })
    lines.push(...observance(tz, local, before, next.offsetNanoseconds))
    at = next
  }
  lines.push('END:VTIMEZONE')
  return `${lines.join('\r\n')}\r\n`
}
