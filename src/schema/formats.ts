import { FormatRegistry } from '@sinclair/typebox'
// Elysia registers its own `date-time` check when it loads; this module must come after it.
import 'elysia'

// Only responses carry `format: 'date-time'` (the task and user timestamps, all written by
// `toISOString`), and Elysia checks every one of them. Its own check also accepts looser
// shapes and parses each value into a Date: with three per task, a page of tasks spent more
// on that than on its JSON. RFC 3339 with an offset, matched once, is what the schema promises.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/

FormatRegistry.Set('date-time', (value) => RFC3339.test(value))
