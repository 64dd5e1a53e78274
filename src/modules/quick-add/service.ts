import { eq, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { lists } from '../../db/schema'
import { statement } from '../../db/statements'
import { newRecurrence } from '../tasks/completions'
import { formatDue } from '../tasks/due'
import type { CreateTaskInput, TaskRecord } from '../tasks/model'
import { createTask } from '../tasks/service'
import type { QuickAddDraft } from './model'
import { type Parsed, parseQuickAdd } from './parse'
import type { NamedList } from './tokens'

type ListRef = NamedList & { isDefault: boolean }

/** The user's lists, for `@list`: their ids, names and which one is the default. */
function userLists(db: Db, userId: string): Promise<ListRef[]> {
  const all = statement<ListRef[]>(db, 'quick add lists', () =>
    db
      .select({ id: lists.id, name: lists.name, isDefault: lists.isDefault })
      .from(lists)
      .where(eq(lists.userId, sql.placeholder('userId'))),
  )
  return all.execute({ userId })
}

/** Reads `text` against the user's lists. */
export async function readText(db: Db, userId: string, text: string, tz: string, now: Date) {
  const owned = await userLists(db, userId)
  const parsed = parseQuickAdd({ text, tz, now: Temporal.Instant.fromEpochMilliseconds(now.getTime()), lists: owned })
  return { parsed, defaultList: owned.find((l) => l.isDefault)?.id }
}

/** The create body the parsed text stands for. */
function createInput(parsed: Parsed): CreateTaskInput {
  const input: CreateTaskInput = { title: parsed.title }
  if (parsed.tags.length > 0) input.tags = parsed.tags
  if (parsed.priority) input.priority = parsed.priority
  if (parsed.due) input.due_date = formatDue(parsed.due)
  if (parsed.recurrence) input.recurrence = { rule: parsed.recurrence.rule, tz: parsed.recurrence.tz, from: 'due' }
  if (parsed.list) input.list_id = parsed.list.id
  return input
}

export const createFromText = (db: Db, userId: string, parsed: Parsed): Promise<TaskRecord> =>
  createTask(db, userId, createInput(parsed), parsed.recurrence?.start)

/** What `createFromText` would create, without creating it. */
export function draftOf(parsed: Parsed, defaultList: number): QuickAddDraft {
  const input = createInput(parsed)
  const recurrence = input.recurrence ? newRecurrence(input.recurrence, parsed.due, parsed.recurrence?.start) : null
  return {
    title: parsed.title,
    priority: parsed.priority ?? 'medium',
    tags: parsed.tags,
    due_date: input.due_date ?? null,
    recurrence: recurrence && { rule: recurrence.rule, tz: recurrence.tz, from: recurrence.from },
    next_due: recurrence?.next ?? null,
    list_id: parsed.list?.id ?? defaultList,
  }
}
