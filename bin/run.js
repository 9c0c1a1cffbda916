#!/usr/bin/env node
// Entry point for both executables (`kubectl-airflow_reap` for kubectl plugin discovery, `airflow-reap`).
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
