/**
 * JSON bodies shaped to make a server do as much work as possible per byte: deep nesting,
 * wide arrays, many keys, long strings. Each is valid JSON (unless its name says otherwise)
 * and at most `limit` bytes of UTF-8.
 */
export interface HostileBody {
  name: string
  body: string
}

const fill = (prefix: string, unit: string, suffix: string, limit: number, join = '') => {
  const room = limit - prefix.length - suffix.length
  const n = Math.max(1, Math.floor((room + join.length) / (unit.length + join.length)))
  return prefix + Array.from({ length: n }, () => unit).join(join) + suffix
}
const deepArrays = (room: number) => {
  const n = Math.floor(room / 2)
  return `${'['.repeat(n)}${']'.repeat(n)}`
}

export function hostileBodies(limit: number): HostileBody[] {
  const deepObjects = (() => {
    const open = '{"a":'
    const n = Math.floor((limit - 1) / (open.length + 1))
    return `${open.repeat(n)}0${'}'.repeat(n)}`
  })()
  const inTitle = (prefix: string, unit: string, suffix = '"}') => fill(`{"title":"${prefix}`, unit, suffix, limit)
  const bodies: HostileBody[] = [
    { name: 'deep arrays', body: deepArrays(limit) },
    { name: 'deep objects', body: deepObjects },
    { name: 'deep arrays in tags', body: `{"title":"x","tags":${deepArrays(limit - 22)}}` },
    { name: 'deep arrays in completed', body: `{"completed":${deepArrays(limit - 14)}}` },
    { name: 'deep arrays in email', body: `{"email":${deepArrays(limit - 30)},"password":"x"}` },
    { name: 'deep arrays, unclosed', body: '['.repeat(limit) },
    {
      name: 'deep mixed nesting',
      body: `${'[{"a":'.repeat(Math.floor((limit - 1) / 8))}0${'}]'.repeat(Math.floor((limit - 1) / 8))}`,
    },
    { name: 'wide array of tags', body: fill('{"title":"x","tags":[', '"a"', ']}', limit, ',') },
    { name: 'wide array of numbers in tags', body: fill('{"title":"x","tags":[', '0', ']}', limit, ',') },
    { name: 'wide array of empty objects in tags', body: fill('{"title":"x","tags":[', '{}', ']}', limit, ',') },
    { name: 'wide root array', body: fill('[', '0', ']', limit, ',') },
    {
      name: 'many unknown keys',
      body: `{"title":"x",${Array.from({ length: Math.floor((limit - 16) / 12) }, (_, i) => `"k${String(i).padStart(5, '0')}":0`).join(',')}}`,
    },
    {
      name: 'many unknown keys on login',
      body: `{"email":"a@b.co","password":"x",${Array.from({ length: Math.floor((limit - 40) / 12) }, (_, i) => `"k${String(i).padStart(5, '0')}":0`).join(',')}}`,
    },
    { name: 'long title', body: inTitle('', 'a') },
    { name: 'long title of spaces between letters', body: inTitle('a', ' ', ' a"}') },
    { name: 'long title of spaces', body: inTitle('', ' ') },
    { name: 'long title of lone surrogates', body: inTitle('', '\\ud800') },
    { name: 'long title of escaped quotes', body: inTitle('', '\\"') },
    { name: 'long title of brackets', body: inTitle('', '[') },
    { name: 'long description of spaces', body: fill('{"title":"x","description":"a', ' ', ' a"}', limit) },
    { name: 'long tag of spaces', body: fill('{"title":"x","tags":["a', ' ', ' a"]}', limit) },
    { name: 'long email', body: fill('{"email":"a@', 'a.', ' x","password":"password1","name":"n"}', limit) },
    {
      name: 'long email of spaces',
      body: fill('{"email":"', ' ', 'a@b.co x","password":"password1","name":"n"}', limit),
    },
    { name: 'long password', body: fill('{"email":"a@b.co","password":"', 'a', '"}', limit) },
    {
      name: 'long name of spaces',
      body: fill('{"email":"a@b.co","password":"password1","name":"a', ' ', ' a"}', limit),
    },
    { name: 'long refresh token', body: fill('{"refresh_token":"', 'a', '"}', limit) },
    { name: 'huge numbers', body: fill('{"title":"x","tags":[', '1e999999', ']}', limit, ',') },
    { name: 'long number', body: `{"completed":${'9'.repeat(limit - 20)}}` },
    { name: 'wide array of deep-ish arrays', body: fill('[', `${'['.repeat(31)}${']'.repeat(31)}`, ']', limit, ',') },
  ]
  for (const b of bodies) {
    const size = Buffer.byteLength(b.body)
    if (size > limit) throw new Error(`hostile body "${b.name}" is ${size} bytes, over ${limit}`)
  }
  return bodies
}
