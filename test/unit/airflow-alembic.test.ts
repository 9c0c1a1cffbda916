import {describe, expect, it} from 'vitest'
import {RELEASE_HEADS, compareVersions, describeHead, familyOfRelease, releaseOfRevision} from '../../src/airflow/alembic.js'

describe('releaseOfRevision', () => {
  it.each([
    ['405de8318b3a', 'Airflow >=2.7.0 <2.8.0', 'airflow-2.7', true],
    ['88344c1d9134', 'Airflow >=2.8.1 <2.9.0', 'airflow-2.7', true],
    ['686269002441', 'Airflow >=2.9.2 <2.10.0', 'airflow-2.7', true],
    ['22ed7efa9da2', 'Airflow >=2.10.0 <2.10.3', 'airflow-2.10', true],
    ['5f2621c13b39', 'Airflow >=2.10.3 <3.0.0', 'airflow-2.10', true],
    ['29ce7909c52b', 'Airflow >=3.0.0 <3.0.3', 'airflow-3', true],
    ['fe199e1abd77', 'Airflow >=3.0.3 <3.1.0', 'airflow-3', true],
    ['eaf332f43c7c', 'Airflow >=3.1.0 <3.1.8', 'airflow-3', true],
    ['cc92b33c6709', 'Airflow >=3.1.0 <3.1.8', 'airflow-3', true],
    ['509b94a1042d', 'Airflow >=3.1.8 <3.2.0', 'airflow-3', true],
    ['1d6611b6ab7c', 'Airflow >=3.2.0 <3.3.0', 'airflow-3', true],
    ['d2f4e1b3c5a7', 'Airflow >=3.3.0', 'airflow-3', true],
    ['4bc4d934e2bc', 'Airflow >=2.6.2 <2.7.0', 'airflow-2.7', false],
    ['c804e5c76e3e', 'Airflow >=2.6.2 <2.7.0', 'airflow-2.7', false], // as Airflow 2.6.2 itself leaves it
  ])('%s → %s', (revision, release, family, supported) => {
    const match = releaseOfRevision(` ${revision}\n`)
    expect(match.known).toBe(true)
    if (!match.known) return
    expect(describeHead(match.head)).toBe(release)
    expect(match.family).toBe(family)
    expect(match.supported).toBe(supported)
  })

  it('does not know an intermediate or future revision', () => {
    expect(releaseOfRevision('0d9e73a75ee4')).toEqual({known: false}) // a 3.0.0 migration, not its head
    expect(releaseOfRevision('37d645374a9c')).toEqual({known: false}) // 3.4.0 development
  })

  it('lists each revision once, releases in order, each range ending where the next starts', () => {
    expect(new Set(RELEASE_HEADS.map((h) => h.revision)).size).toBe(RELEASE_HEADS.length)
    for (let i = 1; i < RELEASE_HEADS.length; i++) {
      expect(compareVersions(RELEASE_HEADS[i - 1].from, RELEASE_HEADS[i].from)).toBeLessThanOrEqual(0)
      const previous = RELEASE_HEADS[i - 1]
      if (previous.from !== RELEASE_HEADS[i].from) expect(previous.until).toBe(RELEASE_HEADS[i].from)
    }
    expect(RELEASE_HEADS.at(-1)!.until).toBeUndefined()
  })
})

describe('versions', () => {
  it.each([
    ['2.9.3', '2.10.0', -1],
    ['3.0.0', '3.0.0', 0],
    ['3.1.10', '3.1.8', 1],
    ['3', '3.0.0', 0],
  ])('compare %s %s → %i', (a, b, expected) => expect(compareVersions(a, b)).toBe(expected))

  it.each([
    ['2.7.3', 'airflow-2.7'],
    ['2.9.3', 'airflow-2.7'],
    ['2.10.0', 'airflow-2.10'],
    ['3.0.0', 'airflow-3'],
  ])('family of %s is %s', (version, family) => expect(familyOfRelease(version)).toBe(family))
})
