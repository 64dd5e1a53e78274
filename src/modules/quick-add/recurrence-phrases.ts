/** A recurrence phrase found in the text: where it is and the RRULE it stands for. */
export interface PhraseMatch {
  start: number
  end: number
  rule: string
}

const DAY_CODES: Record<string, string> = {
  mo: 'MO',
  tu: 'TU',
  we: 'WE',
  th: 'TH',
  fr: 'FR',
  sa: 'SA',
  su: 'SU',
}
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const NUMBER_WORDS: Record<string, number> = { other: 2, two: 2, three: 3, four: 4, five: 5, six: 6 }
const ORDINAL_WORDS: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, fifth: 5, last: -1 }

// Pieces of the grammar, as source text for the expressions below (all case-insensitive).
const WEEKDAY =
  '(?:mon(?:days?)?|tue(?:s(?:days?)?)?|wed(?:nesdays?)?|thu(?:r(?:s(?:days?)?)?)?|fri(?:days?)?|sat(?:urdays?)?|sun(?:days?)?)'
const WEEKDAYS = `${WEEKDAY}(?:\\s*(?:,\\s*(?:and\\s+)?|and\\s+|&\\s*)${WEEKDAY})*`
const MONTH =
  '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)'
const DAY_NUMBER = '(?:[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)?'
const DAY_ORDINAL = '(?:[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)'
const DAY_ORDINALS = `${DAY_ORDINAL}(?:\\s*(?:,\\s*(?:and\\s+)?|and\\s+|&\\s*)${DAY_ORDINAL})*`
const NTH = '(?:first|second|third|fourth|fifth|last|[1-5](?:st|nd|rd|th))'
const COUNT = '(?:[1-9]\\d{0,2}|other|two|three|four|five|six)'
const OF_MONTH = '(?:\\s+of\\s+(?:the|each|every)\\s+month)?'

const weekdayCodes = (text: string) => [
  ...new Set((text.toLowerCase().match(new RegExp(WEEKDAY, 'giu')) ?? []).map((d) => DAY_CODES[d.slice(0, 2)])),
]
const dayNumbers = (text: string) => [...new Set((text.match(/\d+/g) ?? []).map(Number))]
const monthNumber = (text: string) => MONTHS.indexOf(text.toLowerCase().slice(0, 3)) + 1
const nth = (text: string) => ORDINAL_WORDS[text.toLowerCase()] ?? Number.parseInt(text, 10)
const countOf = (text: string | undefined) =>
  text === undefined ? 1 : (NUMBER_WORDS[text.toLowerCase()] ?? Number.parseInt(text, 10))

type Parts = Record<string, string | number | undefined>
const ruleOf = (parts: Parts) =>
  Object.entries(parts)
    .filter(([name, value]) => value !== undefined && !(name === 'INTERVAL' && value === 1))
    .map(([name, value]) => `${name}=${value}`)
    .join(';')

interface Phrase {
  re: RegExp
  rule(m: RegExpExecArray): string
}

// Each expression is tried where a phrase can start and must end at a word's end; the longest
// match wins ("every month on the 1st" over "every month").
const phrase = (source: string, rule: Phrase['rule']): Phrase => ({
  re: new RegExp(`${source}(?![\\p{L}\\p{N}_-])`, 'iuy'),
  rule,
})
const UNITS: Record<string, string> = { day: 'DAILY', week: 'WEEKLY', month: 'MONTHLY', year: 'YEARLY' }
const ADVERBS: Record<string, string> = {
  daily: 'DAILY',
  weekly: 'WEEKLY',
  monthly: 'MONTHLY',
  yearly: 'YEARLY',
  annually: 'YEARLY',
}

const PHRASES: Phrase[] = [
  // every day, every 3 days, every other week on monday and friday, every month on the 1st and
  // 15th, every month on the last friday, every month on the last day, every year on march 3
  phrase(
    `every\\s+(?:(?<n>${COUNT})\\s+)?(?<unit>day|week|month|year)s?` +
      `(?:\\s+on\\s+(?:(?<days>${WEEKDAYS})|the\\s+(?:(?<monthDays>${DAY_ORDINALS})(?:\\s+day)?|(?<nth>${NTH})\\s+(?<nthDay>${WEEKDAY})|(?<lastDay>last\\s+day))|(?<month>${MONTH})\\s+(?<monthDay>${DAY_NUMBER})))?`,
    (m) => {
      const g = m.groups ?? {}
      const freq = UNITS[(g.unit as string).toLowerCase()] as string
      return ruleOf({
        FREQ: freq,
        INTERVAL: countOf(g.n),
        BYMONTH: g.month ? monthNumber(g.month) : undefined,
        BYDAY: g.days
          ? weekdayCodes(g.days).join(',')
          : g.nthDay
            ? `${nth(g.nth as string)}${weekdayCodes(g.nthDay)[0]}`
            : undefined,
        BYMONTHDAY: g.monthDays
          ? dayNumbers(g.monthDays).join(',')
          : g.lastDay
            ? -1
            : g.monthDay
              ? Number.parseInt(g.monthDay, 10)
              : undefined,
      })
    },
  ),
  // daily, weekly on mondays, monthly on the 15th
  phrase(
    `(?<adverb>daily|weekly|monthly|yearly|annually)(?:\\s+on\\s+(?:(?<days>${WEEKDAYS})|the\\s+(?<monthDays>${DAY_ORDINALS})))?`,
    (m) => {
      const g = m.groups ?? {}
      const freq = ADVERBS[(g.adverb as string).toLowerCase()] as string
      return ruleOf({
        FREQ: freq,
        BYDAY: g.days ? weekdayCodes(g.days).join(',') : undefined,
        BYMONTHDAY: g.monthDays ? dayNumbers(g.monthDays).join(',') : undefined,
      })
    },
  ),
  phrase('everyday', () => 'FREQ=DAILY'),
  phrase('every\\s+(?:weekday|workday|work\\s+day)|weekdays', () => 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'),
  phrase('every\\s+weekend(?:\\s+day)?', () => 'FREQ=WEEKLY;BYDAY=SA,SU'),
  // every monday, every tue and thu
  phrase(`every\\s+(?<days>${WEEKDAYS})`, (m) => `FREQ=WEEKLY;BYDAY=${weekdayCodes(m.groups?.days ?? '').join(',')}`),
  // every last friday, every first monday of the month
  phrase(
    `every\\s+(?<nth>${NTH})\\s+(?<day>${WEEKDAY})${OF_MONTH}`,
    (m) => `FREQ=MONTHLY;BYDAY=${nth(m.groups?.nth ?? '')}${weekdayCodes(m.groups?.day ?? '')[0]}`,
  ),
  phrase(`every\\s+last\\s+day${OF_MONTH}`, () => 'FREQ=MONTHLY;BYMONTHDAY=-1'),
  // every 1st, every 15th of the month
  phrase(
    `every\\s+(?<days>${DAY_ORDINALS})(?:\\s+day)?${OF_MONTH}`,
    (m) => `FREQ=MONTHLY;BYMONTHDAY=${dayNumbers(m.groups?.days ?? '').join(',')}`,
  ),
  // every march 3, every 3rd of march, every 3 march
  phrase(
    `every\\s+(?:(?<month>${MONTH})\\s+(?<day>${DAY_NUMBER})|(?<day2>${DAY_NUMBER})\\s+(?:of\\s+)?(?<month2>${MONTH}))`,
    (m) => {
      const g = m.groups ?? {}
      const month = monthNumber((g.month ?? g.month2) as string)
      return `FREQ=YEARLY;BYMONTH=${month};BYMONTHDAY=${Number.parseInt((g.day ?? g.day2) as string, 10)}`
    },
  ),
]

// Where a phrase can start: a word of its own.
const STARTS =
  /(?<![\p{L}\p{N}_-])(?:every|everyday|daily|weekly|monthly|yearly|annually|weekdays)(?![\p{L}\p{N}_-])/giu

/** The first recurrence phrase in `text` (English), or undefined. */
export function findRecurrence(text: string): PhraseMatch | undefined {
  for (const start of text.matchAll(STARTS)) {
    let best: PhraseMatch | undefined
    for (const { re, rule } of PHRASES) {
      re.lastIndex = start.index
      const m = re.exec(text)
      if (m && (!best || re.lastIndex > best.end)) best = { start: start.index, end: re.lastIndex, rule: rule(m) }
    }
    if (best) return best
  }
  return undefined
}
