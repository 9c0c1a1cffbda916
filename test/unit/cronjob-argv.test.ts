import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {type FlagShapes, splitCronjobArgv} from '../../src/manifests/argv.js'

const OWN: FlagShapes = {output: {type: 'option', char: 'o'}, schedule: {type: 'option'}, 'name-prefix': {type: 'option'}, suspend: {type: 'boolean'}}
const POD: FlagShapes = {namespace: {type: 'option', char: 'n'}, delete: {type: 'boolean'}, yes: {type: 'boolean'}, 'min-age': {type: 'option'}}
const COMMANDS = {zombies: POD, overdue: POD, unstick: {...POD, finalizer: {type: 'option'} as const}}

describe('splitCronjobArgv', () => {
  it('takes the cronjob\'s own flags from anywhere and gives the rest to the command', () => {
    expect(splitCronjobArgv(['zombies', '--delete', '-o', 'json', '--yes', '--schedule=0 * * * *', '-n', 'airflow'], OWN, COMMANDS)).toEqual({
      own: ['-o', 'json', '--schedule=0 * * * *'],
      segments: [{command: 'zombies', argv: ['--delete', '--yes', '-n', 'airflow']}],
    })
  })

  it('starts a new command at a command name, and gives flags before the first command to every command', () => {
    expect(splitCronjobArgv(['-n', 'airflow', 'zombies', '--delete', '--yes', 'unstick', 'jobs', '--yes'], OWN, COMMANDS).segments).toEqual([
      {command: 'zombies', argv: ['-n', 'airflow', '--delete', '--yes']},
      {command: 'unstick', argv: ['-n', 'airflow', 'jobs', '--yes']},
    ])
  })

  it('a command name that is a flag value is a value', () => {
    const split = splitCronjobArgv(['zombies', '--name-prefix', 'unstick', '-n', 'overdue', 'unstick', '--finalizer', 'zombies'], OWN, COMMANDS)
    expect(split.own).toEqual(['--name-prefix', 'unstick'])
    expect(split.segments).toEqual([
      {command: 'zombies', argv: ['-n', 'overdue']},
      {command: 'unstick', argv: ['--finalizer', 'zombies']},
    ])
  })

  it.each([
    [[], /name the command/],
    [['--suspend'], /name the command/],
    [['zombies', 'zombies'], /named twice/],
    [['zombies', '--schedule'], /--schedule needs a value/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => splitCronjobArgv(argv, OWN, COMMANDS)).toThrow(UsageError)
    expect(() => splitCronjobArgv(argv, OWN, COMMANDS)).toThrow(message)
  })
})
