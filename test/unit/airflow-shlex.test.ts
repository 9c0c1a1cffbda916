// shlexSplit must split `*_CMD` values exactly as Python's shlex.split (POSIX mode) does for Airflow.
// Expected values were produced with CPython 3's shlex.split.
import {describe, expect, it} from 'vitest'

import {ShlexError, shlexSplit} from '../../src/airflow/shlex.js'

describe('shlexSplit', () => {
  it.each<[string, string[]]>([
    ['cat /run/secrets/db', ['cat', '/run/secrets/db']],
    ['vault kv get -field=conn secret/airflow', ['vault', 'kv', 'get', '-field=conn', 'secret/airflow']],
    ['  a   b  ', ['a', 'b']],
    ['a\tb\nc', ['a', 'b', 'c']],
    ['a"b c"d', ['ab cd']],
    [`'a b' "c d"`, ['a b', 'c d']],
    [String.raw`a\ b`, ['a b']],
    [String.raw`"a\"b"`, ['a"b']],
    [String.raw`"a\b"`, [String.raw`a\b`]], // in double quotes only \" and \\ are escapes
    [String.raw`'a\b'`, [String.raw`a\b`]], // single quotes: everything literal
    [String.raw`a\\b`, [String.raw`a\b`]],
    ['"" x', ['', 'x']], // a quoted empty string is a word
    ["''", ['']],
    ['x #y', ['x', '#y']], // no comments
    ['"$HOME"', ['$HOME']], // no expansion: there is no shell
    ['a|b', ['a|b']],
    ['é ü', ['é', 'ü']],
    ['', []],
    ['   ', []],
  ])('%j → %j', (input, words) => {
    expect(shlexSplit(input)).toEqual(words)
  })

  it.each([
    ['a "b', 'No closing quotation'],
    ["a 'b", 'No closing quotation'],
    ['a \\', 'No escaped character'],
    ['a "b\\', 'No escaped character'],
  ])('%j fails like Python: %s', (input, message) => {
    expect(() => shlexSplit(input)).toThrow(ShlexError)
    expect(() => shlexSplit(input)).toThrow(message)
  })
})
