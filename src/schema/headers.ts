/** A response header as the OpenAPI document describes it: routes name theirs in `detail.responses`. */
export const header = (description: string, type: 'string' | 'integer' = 'string') => ({
  description,
  schema: { type },
})
