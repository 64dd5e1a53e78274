import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing'

/**
 * Positions are fractional-indexing keys: opaque strings that sort bytewise (the columns are
 * `collate "C"`), so a task or list goes between two neighbours by writing its own row only.
 * Putting items again and again at the same spot makes keys longer; past this length the whole
 * group of siblings gets fresh, short keys in the same transaction (a rebalance).
 */
export const MAX_POSITION_LENGTH = 32

/**
 * The key between two neighbours (null: the start or the end of the group), or undefined when
 * the group needs a rebalance first: the neighbours are tied or out of order (rows written
 * without the API), or the key would pass MAX_POSITION_LENGTH.
 */
export function keyBetween(before: string | null, after: string | null): string | undefined {
  if (before !== null && after !== null && before >= after) return undefined
  const key = generateKeyBetween(before, after)
  return key.length > MAX_POSITION_LENGTH ? undefined : key
}

/** `count` fresh keys in ascending order, as short as the library makes them. */
export const evenKeys = (count: number): string[] => generateNKeysBetween(null, null, count)

/** Where an item goes in its group: after one sibling, before one, or (neither) first. */
export interface Placement {
  afterId?: number
  beforeId?: number
}

/**
 * The group's ids in their new order: `ordered` (the siblings, without the moved item) with
 * `movedId` put where `placement` says. Used for a rebalance.
 */
export function withPlaced(ordered: number[], movedId: number, placement: Placement): number[] {
  const ids = ordered.filter((id) => id !== movedId)
  let at = 0
  if (placement.afterId !== undefined) at = ids.indexOf(placement.afterId) + 1
  else if (placement.beforeId !== undefined) at = Math.max(0, ids.indexOf(placement.beforeId))
  ids.splice(at, 0, movedId)
  return ids
}
