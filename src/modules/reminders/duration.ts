/**
 * How long before the due instant a `before` reminder fires: an ISO 8601 duration of weeks, or
 * of days, hours, minutes and seconds (`PT15M`, `P1D`, `P1DT12H`, `P2W`). Exact lengths: a day is
 * 24 hours, a week 7 days. Years and months are refused: their length depends on the date.
 */
export const DURATION =
  /^P(?!$)(?:(?<weeks>\d{1,3})W|(?:(?<days>\d{1,3})D)?(?:T(?=\d)(?:(?<hours>\d{1,4})H)?(?:(?<minutes>\d{1,6})M)?(?:(?<seconds>\d{1,8})S)?)?)$/

/** The longest offset a reminder may have. */
export const MAX_BEFORE_SECONDS = 366 * 24 * 60 * 60

/** Seconds of a `DURATION`; undefined when it is not one. */
export function durationSeconds(value: string): number | undefined {
  const g = DURATION.exec(value)?.groups
  if (!g) return undefined
  const n = (part: string | undefined) => Number(part ?? 0)
  return n(g.weeks) * 604_800 + n(g.days) * 86_400 + n(g.hours) * 3_600 + n(g.minutes) * 60 + n(g.seconds)
}
