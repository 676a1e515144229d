/**
 * The Aurora PostgreSQL versions an environment may be created with: each supports Aurora Global
 * Database (and with it switchover and failover of the global database) and stays in standard
 * support until at least the date given, so a first deploy can still create it and a re-created
 * secondary region can still join it.
 *
 * Sources, read 2026-12-03:
 * - standard-support end dates and LTS releases: Aurora PostgreSQL release calendar,
 *   https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurorapostgresql-release-calendar.html
 *   (16.6 is no longer listed; 16.9 and 17.5 end on 2026-12-31, 17.4 ended on 2026-11-30);
 * - global database support (Aurora PostgreSQL 16.1+ and 17.4+ in every Region):
 *   https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.GlobalDatabase.html
 * - switchover needs both regions on the same major and minor version:
 *   https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html
 *
 * To add a version, check it in each of the env's regions (`SupportsGlobalDatabases` is a field
 * of DBEngineVersion, https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBEngineVersion.html):
 *
 *   aws rds describe-db-engine-versions --region <region> --engine aurora-postgresql \
 *     --query 'DBEngineVersions[?SupportsGlobalDatabases==`true`].EngineVersion'
 *
 * and take its end of standard support from the release calendar.
 */
export const AURORA_POSTGRESQL_VERSIONS = {
  "16.8": { endOfStandardSupport: "2029-02-28", longTermSupport: true },
  "16.10": { endOfStandardSupport: "2027-04-30", longTermSupport: false },
  "16.11": { endOfStandardSupport: "2027-05-31", longTermSupport: false },
  "16.13": { endOfStandardSupport: "2027-09-30", longTermSupport: false },
  "17.6": { endOfStandardSupport: "2027-04-30", longTermSupport: false },
  "17.7": { endOfStandardSupport: "2030-02-28", longTermSupport: true },
  "17.9": { endOfStandardSupport: "2027-09-30", longTermSupport: false },
} as const satisfies Record<string, { endOfStandardSupport: string; longTermSupport: boolean }>;

export type AuroraPostgresqlVersion = keyof typeof AURORA_POSTGRESQL_VERSIONS;

/** The allowed versions in the order written, e.g. for an error message. */
export const AURORA_POSTGRESQL_VERSION_LIST = Object.keys(
  AURORA_POSTGRESQL_VERSIONS,
) as AuroraPostgresqlVersion[];

/** "16.8 (LTS), 16.10, ...": the allowed versions as an error message lists them. */
export function describeAuroraVersions(): string {
  return AURORA_POSTGRESQL_VERSION_LIST.map((version) =>
    AURORA_POSTGRESQL_VERSIONS[version].longTermSupport ? `${version} (LTS)` : version,
  ).join(", ");
}
