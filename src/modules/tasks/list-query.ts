import { validationFailed } from '../../http/problem'
import { rejectRepeatedParams } from '../../http/query'
import { trimText } from '../../schema/text'
import { type Due, formatDue, parseDue } from './due'
import {
  DEFAULT_PAGE_SIZE,
  type ListQueryInput,
  MAX_TASK_ID,
  PRIORITIES,
  type Priority,
  type SortKey,
  type TaskStatus,
} from './model'
import { searchWords } from './search'
import { tagKey } from './tags'

export type Direction = 'asc' | 'desc'

export interface TaskFilters {
  status: TaskStatus
  priorities?: Priority[]
  tags?: { keys: string[]; mode: 'all' | 'any' }
  dueBefore?: Due
  dueAfter?: Due
  overdue?: boolean
  hasDue?: boolean
  recurring?: boolean
  /** Words of `q`; absent when there is no search. */
  words?: string[]
  listId?: number
  /** A parent's id, or `none` for top-level tasks only. */
  parentId?: number | 'none'
  /** IANA zone that decides which day is today, and where a date bound starts. */
  tz: string
}

export interface TaskSort {
  key: SortKey
  direction: Direction
}

export interface ListRequest {
  filters: TaskFilters
  sort: TaskSort
  limit: number
  /** Canonical form of filters and sort: a cursor is only valid with the same one. */
  key: string
}

// The direction most people want when they pick a sort: newest, most important first; A to Z,
// soonest due first.
const DEFAULT_DIRECTION: Record<SortKey, Direction> = {
  created: 'desc',
  updated: 'desc',
  title: 'asc',
  due_date: 'asc',
  priority: 'desc',
  completed_at: 'desc',
  position: 'asc',
}

const SINGLE_VALUED = [
  'status',
  'tag_mode',
  'due_before',
  'due_after',
  'overdue',
  'has_due',
  'recurring',
  'q',
  'tz',
  'list_id',
  'parent_id',
  'sort',
  'order',
]

const invalid = (field: string, message: string) =>
  validationFailed(`The query parameters are invalid: ${field} ${message}.`, [{ field, message }])

const unique = <T>(values: readonly T[]) => [...new Set(values)]

function parentFilter(raw: string | undefined): TaskFilters['parentId'] {
  if (raw === undefined || raw === 'none') return raw
  // An id past the column's range names no task: nothing matches, as for an unknown one.
  return Math.min(Number(raw), MAX_TASK_ID)
}

/** Reads the validated list query into filters and a sort, and checks what a schema cannot. */
export function readListQuery(request: Request, query: ListQueryInput): ListRequest {
  rejectRepeatedParams(request, [...SINGLE_VALUED, 'limit', 'cursor'])
  const descending = query.sort?.startsWith('-') ?? false
  const key = (query.sort?.replace(/^-/, '') ?? 'created') as SortKey
  if (descending && query.order === 'asc') throw invalid('order', 'contradicts the "-" in sort')
  const direction: Direction = descending ? 'desc' : (query.order ?? DEFAULT_DIRECTION[key])

  let words: string[] | undefined
  const q = query.q === undefined ? '' : trimText(query.q)
  if (q !== '') {
    words = searchWords(q)
    if (words.length === 0) throw invalid('q', 'must contain at least one letter or digit')
  }
  const tagKeys = query.tag ? unique(query.tag.map(tagKey)).sort() : undefined

  const filters: TaskFilters = {
    status: query.status ?? 'all',
    priorities: query.priority ? PRIORITIES.filter((p) => query.priority?.includes(p)) : undefined,
    tags: tagKeys ? { keys: tagKeys, mode: query.tag_mode ?? 'all' } : undefined,
    dueBefore: query.due_before === undefined ? undefined : parseDue(query.due_before),
    dueAfter: query.due_after === undefined ? undefined : parseDue(query.due_after),
    overdue: query.overdue,
    hasDue: query.has_due,
    recurring: query.recurring,
    words,
    listId: query.list_id,
    parentId: parentFilter(query.parent_id),
    tz: query.tz ?? 'UTC',
  }
  const canonical = {
    ...filters,
    dueBefore: filters.dueBefore && formatDue(filters.dueBefore),
    dueAfter: filters.dueAfter && formatDue(filters.dueAfter),
    words: words?.map((w) => w.toLowerCase()),
    sort: `${key}:${direction}`,
  }
  return {
    filters,
    sort: { key, direction },
    limit: query.limit ?? DEFAULT_PAGE_SIZE,
    key: JSON.stringify(canonical),
  }
}
