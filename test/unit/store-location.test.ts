import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {resolveStorePath} from '../../src/store/location.js'

const home = '/home/ada'
const cwd = '/work/here'

describe('resolveStorePath', () => {
  it.each([
    ['--cache wins over everything', {flag: '/data/runs.db', env: {AIRFLOW_REAP_CACHE: '/env/runs.db', XDG_CACHE_HOME: '/xdg'}}, '/data/runs.db'],
    ['--cache relative to the working directory', {flag: 'runs.db'}, '/work/here/runs.db'],
    ['--cache=~/x expands the home directory', {flag: '~/reap/runs.db'}, '/home/ada/reap/runs.db'],
    ['AIRFLOW_REAP_CACHE without the flag', {env: {AIRFLOW_REAP_CACHE: '/env/runs.db', XDG_CACHE_HOME: '/xdg'}}, '/env/runs.db'],
    ['AIRFLOW_REAP_CACHE with ~', {env: {AIRFLOW_REAP_CACHE: '~/r.db'}}, '/home/ada/r.db'],
    ['XDG_CACHE_HOME without flag or variable', {env: {XDG_CACHE_HOME: '/xdg'}}, '/xdg/airflow-reap/runs.sqlite'],
    ['empty AIRFLOW_REAP_CACHE counts as unset', {env: {AIRFLOW_REAP_CACHE: '', XDG_CACHE_HOME: '/xdg'}}, '/xdg/airflow-reap/runs.sqlite'],
    ['relative XDG_CACHE_HOME is ignored (XDG spec)', {env: {XDG_CACHE_HOME: 'cache'}}, '/home/ada/.cache/airflow-reap/runs.sqlite'],
    ['empty XDG_CACHE_HOME is ignored', {env: {XDG_CACHE_HOME: ''}}, '/home/ada/.cache/airflow-reap/runs.sqlite'],
    ['nothing set: ~/.cache', {env: {}}, '/home/ada/.cache/airflow-reap/runs.sqlite'],
    ['--no-cache records nothing', {noCache: true, env: {XDG_CACHE_HOME: '/xdg'}}, null],
    ['--no-cache wins over --cache', {noCache: true, flag: '/data/runs.db'}, null],
  ])('%s', (_name, input, expected) => {
    expect(resolveStorePath({env: {}, homeDir: home, cwd, ...input})).toBe(expected)
  })

  it('rejects an empty --cache as a usage error', () => {
    expect(() => resolveStorePath({flag: '', env: {}, homeDir: home})).toThrow(UsageError)
  })

  it('reads process.env when no env is given', () => {
    const saved = process.env.AIRFLOW_REAP_CACHE
    process.env.AIRFLOW_REAP_CACHE = '/from/process/env.db'
    try {
      expect(resolveStorePath({homeDir: home})).toBe('/from/process/env.db')
    } finally {
      if (saved === undefined) delete process.env.AIRFLOW_REAP_CACHE
      else process.env.AIRFLOW_REAP_CACHE = saved
    }
  })
})
