// The container image each release publishes (.github/workflows/release.yml builds it from the
// Dockerfile), the default of `cronjob --image`. The owner is the project's GitHub organisation, as
// in krew-manifest.yaml's homepage.
export const IMAGE_REPOSITORY = 'ghcr.io/airflow-reap/airflow-reap'

export function defaultImage(version: string): string {
  return `${IMAGE_REPOSITORY}:${version}`
}
