import { z } from "zod";
import { DETECTION_SIGNALS } from "../../functions/shared/dr-metrics";
import { REGION_ROLES } from "../../functions/shared/region-roles";
import {
  AURORA_GLOBAL_INSTANCE_CLASS,
  DOMAIN_NAME,
  EC2_INSTANCE_TYPE,
  HEALTH_PATH,
  HOSTED_ZONE_ID,
  hasFormat,
  LOG_RETENTION_DAYS,
  LOG_RETENTION_DAYS_EXPECTED,
  RDS_INSTANCE_CLASS,
  RESOURCE_NAME,
  S3_BUCKET_NAME_WITHOUT_DOTS,
  ZONE_NAME,
} from "../aws-formats";
import { cidrsOverlap, parseIpv4Cidr } from "../ipv4-cidr";
import { AURORA_POSTGRESQL_VERSION_LIST, describeAuroraVersions } from "./aurora-versions";
import { cronExpressionProblem } from "./cron-expression";
import { AWS_REGIONS } from "./regions";

/**
 * The schema of an environment file (`envs/<env>.json`). Everything an operator changes lives
 * here; constructs never read files. Objects are strict: an unknown field is an error, because a
 * misspelt optional field would otherwise be silently ignored and its default used.
 */

/** How the S3 backend locks the state (`stateBackend.locking`). */
export const STATE_LOCKING = ["lockfile", "lockfile-and-table", "table"] as const;

/** Modes of an AWS Backup vault lock (`backup.vaultLock.mode`). */
export const VAULT_LOCK_MODES = ["governance", "compliance"] as const;
export type VaultLockMode = (typeof VAULT_LOCK_MODES)[number];
/**
 * AWS Backup enforces a 72-hour cooling-off period before a compliance lock takes effect, so
 * ChangeableForDays is at least 3
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutBackupVaultLockConfiguration.html).
 */
export const VAULT_LOCK_MIN_CHANGEABLE_DAYS = 3;

/** Smallest and largest VPC prefixes the subnet plan supports (see networking.ts). */
export const VPC_PREFIX_RANGE = { min: 16, max: 22 } as const;
export const AZ_COUNT_RANGE = { min: 2, max: 4 } as const;

const region = z.enum(AWS_REGIONS, {
  error: "an AWS region id such as us-east-2 or eu-west-1",
});

const name = (what: string, maxLength: number) =>
  z
    .string()
    .max(maxLength, `${what} of at most ${maxLength} characters`)
    .regex(RESOURCE_NAME.pattern, `${what}: ${RESOURCE_NAME.expected}`);

const vpcCidr = z.string().refine(
  (value) => {
    const cidr = parseIpv4Cidr(value);
    return (
      cidr !== undefined &&
      cidr.prefixLength >= VPC_PREFIX_RANGE.min &&
      cidr.prefixLength <= VPC_PREFIX_RANGE.max
    );
  },
  {
    error: `an IPv4 network a.b.c.d/n with n from ${VPC_PREFIX_RANGE.min} to ${VPC_PREFIX_RANGE.max} and no host bits set, e.g. 10.10.0.0/16`,
  },
);

/** An EventBridge Scheduler / AWS Backup cron expression (UTC). */
const cronSchedule = z.string().superRefine((value, ctx) => {
  const problem = cronExpressionProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem, input: value });
});

const positiveInt = (what: string) => z.int(`${what} as a whole number`).min(1, `${what} >= 1`);

const QUORUM_EXPECTED =
  `a whole number from 1 to ${DETECTION_SIGNALS.length}: how many of the detection signals ` +
  `(${DETECTION_SIGNALS.join(", ")}) must say the primary is down before automatic failover ` +
  "starts (2 keeps one failing signal from starting it)";
const MINIMUM_INTERVAL_EXPECTED =
  "a whole number of minutes >= 0 between two automatic failovers (0 for no minimum)";

const bucketName = z
  .string()
  .regex(S3_BUCKET_NAME_WITHOUT_DOTS.pattern, S3_BUCKET_NAME_WITHOUT_DOTS.expected);

const computeRole = z.strictObject({
  /** EC2 instance type of the web tier, e.g. `m7i.large`. */
  instanceType: z.string().regex(EC2_INSTANCE_TYPE.pattern, EC2_INSTANCE_TYPE.expected),
  minSize: positiveInt("minSize"),
  desiredCapacity: positiveInt("desiredCapacity"),
  maxSize: positiveInt("maxSize"),
});

const databaseRole = z.strictObject({
  /** Aurora instance class, e.g. `db.r7g.large`. */
  instanceClass: z.string().regex(RDS_INSTANCE_CLASS.pattern, RDS_INSTANCE_CLASS.expected),
  instances: positiveInt("instances"),
});

const hostedZone = z.union(
  [
    z.strictObject({
      id: z.string().regex(HOSTED_ZONE_ID.pattern, HOSTED_ZONE_ID.expected),
    }),
    z.strictObject({
      name: z.string().regex(ZONE_NAME.pattern, ZONE_NAME.expected),
    }),
  ],
  { error: 'either {"id": "Z..."} or {"name": "example.com"}' },
);

export const envConfigSchema = z
  .strictObject({
    /** Project name; prefixes every resource name and the stack name `<project>-<environment>`. */
    project: name("a project name", 16),
    /** Environment name; must equal the file name (`envs/<environment>.json`). */
    environment: name("an environment name", 10),
    /**
     * Which region serves traffic. Set to `secondary` after a failover so a re-apply keeps the new
     * topology instead of fighting it.
     * @default "primary"
     */
    activeRegion: z
      .enum(["primary", "secondary"], {
        error:
          '"primary" or "secondary", the role of the region that serves traffic (not a region id); set "secondary" after a failover so a re-apply keeps regions.secondary serving',
      })
      .default("primary"),
    regions: z.strictObject({
      primary: region,
      secondary: region,
    }),
    /** Where Terraform keeps this environment's state (created once by `bootstrap/`). */
    stateBackend: z.strictObject({
      bucket: bucketName,
      region,
      lockTable: z
        .string()
        .regex(/^[a-zA-Z0-9_.-]{3,255}$/, "a DynamoDB table name: 3-255 of a-z A-Z 0-9 _ . -"),
      /** Bucket the state is replicated to; the backend switches to it during a regional outage. */
      replicaBucket: bucketName,
      replicaRegion: region,
      /**
       * How Terraform locks the state. `lockfile`: S3-native locking (`use_lockfile`, Terraform
       * >= 1.10), the backend's recommended setting; the lock table is then unused.
       * `lockfile-and-table`: both, the documented step when moving a state off the table (a
       * Terraform that only knows the table still locks against the others). `table`: the
       * DynamoDB table only, for Terraform < 1.10; Terraform >= 1.11 warns that `dynamodb_table`
       * is deprecated on every init. https://developer.hashicorp.com/terraform/language/backend/s3#state-locking
       * @default "lockfile"
       */
      locking: z
        .enum(STATE_LOCKING, {
          error: `one of ${STATE_LOCKING.map((value) => `"${value}"`).join(", ")}`,
        })
        .default("lockfile"),
    }),
    network: z.strictObject({
      vpcCidr: z.strictObject({ primary: vpcCidr, secondary: vpcCidr }),
      /** Availability zones per region; each gets a public, a private and a database subnet. */
      azCount: z
        .int()
        .min(
          AZ_COUNT_RANGE.min,
          `at least ${AZ_COUNT_RANGE.min} availability zones, so one AZ can fail`,
        )
        .max(
          AZ_COUNT_RANGE.max,
          `at most ${AZ_COUNT_RANGE.max} availability zones (the subnet plan has room for ${AZ_COUNT_RANGE.max})`,
        ),
      /**
       * `per-az`: one NAT gateway per AZ (survives an AZ failure). `single`: one per region (cheaper,
       * for dev).
       * @default "per-az"
       */
      natGateways: z.enum(["per-az", "single"]).default("per-az"),
      /** @default 30 */
      flowLogRetentionDays: z
        .literal(LOG_RETENTION_DAYS, { error: LOG_RETENTION_DAYS_EXPECTED })
        .default(30),
    }),
    storage: z
      .strictObject({
        /** Days a replaced or deleted object version is kept before it expires. @default 30 */
        noncurrentVersionRetentionDays: positiveInt("noncurrentVersionRetentionDays").default(30),
        /** Days S3 server access logs are kept. @default 90 */
        accessLogRetentionDays: positiveInt("accessLogRetentionDays").default(90),
      })
      .default({ noncurrentVersionRetentionDays: 30, accessLogRetentionDays: 90 }),
    compute: z.strictObject({
      primary: computeRole,
      secondary: computeRole,
      /**
       * Deletion protection of both load balancers: AWS refuses to delete them, so `terraform
       * destroy` stops on them until it is off. Set `false` where environments are torn down
       * routinely (dev).
       * @default true
       */
      loadBalancerDeletionProtection: z.boolean().default(true),
      /** Average CPU the target-tracking policy holds the web tier at. @default 50 */
      targetCpuPercent: z
        .int()
        .min(10, "from 10 to 90 percent")
        .max(90, "from 10 to 90 percent")
        .default(50),
      /**
       * SSH access for break-glass debugging; instances are managed through SSM otherwise.
       * @default - no SSH at all
       */
      ssh: z
        .strictObject({
          keyName: z.string().min(1, "the name of an EC2 key pair"),
          allowedCidr: z.string().refine(
            (value) => {
              const cidr = parseIpv4Cidr(value);
              return cidr !== undefined && cidr.prefixLength > 0;
            },
            {
              error:
                "an IPv4 network narrower than 0.0.0.0/0, e.g. 203.0.113.0/24: SSH is never open to the internet",
            },
          ),
        })
        .optional(),
    }),
    database: z.strictObject({
      /**
       * Aurora PostgreSQL major.minor version the global database is created with: one of
       * AURORA_POSTGRESQL_VERSIONS (src/config/aurora-versions.ts), which support global
       * databases and stay in standard support; that file says how to add one.
       */
      engineVersion: z.enum(AURORA_POSTGRESQL_VERSION_LIST, {
        error: `an Aurora PostgreSQL version with global database support, in standard support: ${describeAuroraVersions()} (to add one, see src/config/aurora-versions.ts)`,
      }),
      primary: databaseRole,
      secondary: databaseRole,
      /** @default 7 */
      backupRetentionDays: z
        .int()
        .min(7, "at least 7 days of backups")
        .max(35, "at most 35 days (the Aurora limit)")
        .default(7),
      /** @default true */
      deletionProtection: z.boolean().default(true),
      /**
       * Raise by one to rotate the master password on the next apply (write-only: the password
       * is never in the plan or the state). See docs/configuration.md, "Database credentials".
       * @default 1
       */
      masterPasswordVersion: positiveInt("database.masterPasswordVersion").default(1),
    }),
    dns: z.strictObject({
      /** Public name of the shop, e.g. `shop.example.com`. */
      domainName: z.string().regex(DOMAIN_NAME.pattern, DOMAIN_NAME.expected),
      hostedZone,
      healthCheck: z
        .strictObject({
          /** Route 53 supports 10 (fast, extra cost) or 30 seconds. @default 10 */
          intervalSeconds: z
            .literal([10, 30], { error: "10 or 30 (the intervals Route 53 supports)" })
            .default(10),
          /** Consecutive failures before an endpoint is unhealthy. @default 3 */
          failureThreshold: z.int().min(1, "from 1 to 10").max(10, "from 1 to 10").default(3),
          /** @default "/health" */
          path: z.string().regex(HEALTH_PATH.pattern, HEALTH_PATH.expected).default("/health"),
        })
        .default({ intervalSeconds: 10, failureThreshold: 3, path: "/health" }),
    }),
    alerts: z.strictObject({
      email: z.email({ error: "an email address such as alerts@example.com" }),
    }),
    dr: z.strictObject({
      /** Recovery time objective: longest acceptable outage, in seconds. */
      rtoSeconds: positiveInt("rtoSeconds"),
      /** Recovery point objective: most acceptable data loss, in seconds. */
      rpoSeconds: positiveInt("rpoSeconds"),
      /** Aurora global replication lag that raises an alarm. @default 60 */
      replicationLagAlarmSeconds: positiveInt("replicationLagAlarmSeconds").default(60),
      /**
       * Most acceptable loss of assets (S3 objects), in seconds. S3 Replication Time Control
       * replicates 99.99% of objects within 15 minutes, so less than 900 cannot be promised.
       * @default 900
       */
      assetsRpoSeconds: positiveInt("assetsRpoSeconds").default(900),
      /**
       * Durations the RTO budget assumes for steps AWS does not bound; replace them with what your
       * drills measure (the drill report prints them).
       * @default - databasePromotionSeconds 60, scaleUpSeconds 90
       */
      estimates: z
        .strictObject({
          /** Aurora global database failover/switchover until the new writer accepts writes. */
          databasePromotionSeconds: positiveInt("databasePromotionSeconds").default(60),
          /** A new web instance from launch to passing load-balancer health checks. */
          scaleUpSeconds: positiveInt("scaleUpSeconds").default(90),
        })
        .default({ databasePromotionSeconds: 60, scaleUpSeconds: 90 }),
    }),
    /**
     * Automatic failover, decided in the secondary region: probe-primary checks the primary every
     * minute from there with independent signals (functions/shared/dr-metrics.ts
     * `DETECTION_SIGNALS`) and publishes `PrimaryDown`; its alarm starts an unplanned failover.
     * probe-primary and the alarm exist whether or not `enabled` is set (the dashboard shows
     * them); `enabled` adds the trigger.
     */
    automaticFailover: z.strictObject({
      enabled: z.boolean(),
      /**
       * Minutes in a row the primary must be found down before failover starts (the primary-down
       * alarm's evaluation periods, 1 minute each): damps a flapping signal. @default 3
       */
      alarmMinutes: positiveInt("alarmMinutes").default(3),
      /**
       * How many of the detection signals (endpoint, database, route53) must say the primary is
       * down; Route 53's checkers saying it is up vetoes whatever the others say. @default 2
       */
      quorum: z
        .int(QUORUM_EXPECTED)
        .min(1, QUORUM_EXPECTED)
        .max(DETECTION_SIGNALS.length, QUORUM_EXPECTED)
        .default(2),
      /**
       * Minutes after an automatic failover started before the trigger may start another, so a
       * flapping primary cannot start one after another. @default 30
       */
      minimumIntervalMinutes: z
        .int(MINIMUM_INTERVAL_EXPECTED)
        .min(0, MINIMUM_INTERVAL_EXPECTED)
        .default(30),
    }),
    /** The failover automation's Lambda functions. @default - unreserved concurrency */
    automation: z
      .strictObject({
        /**
         * Concurrent executions reserved for each automation function, so the rest of the
         * account cannot starve a failover. Leave it out on small accounts: Lambda refuses a
         * reservation that leaves fewer than 100 unreserved executions, and new accounts start
         * far below the 1,000 default (docs/configuration.md, "Reserved concurrency", says how to check).
         * @default - none: the functions share the account's unreserved pool
         */
        reservedConcurrency: z
          .int("automation.reservedConcurrency as a whole number")
          .min(1, "automation.reservedConcurrency >= 1")
          .max(100, "automation.reservedConcurrency <= 100 (every function reserves it)")
          .optional(),
      })
      .optional(),
    drill: z.strictObject({
      enabled: z.boolean(),
      /** EventBridge Scheduler cron expression, in UTC. */
      schedule: cronSchedule,
      /** Minutes to stay failed over before failing back. @default 5 */
      holdMinutes: positiveInt("holdMinutes").default(5),
    }),
    backup: z
      .strictObject({
        /** AWS Backup schedule (cron, UTC). @default "cron(0 5 * * ? *)" */
        schedule: cronSchedule.default("cron(0 5 * * ? *)"),
        /** Days a recovery point is kept in its own region. @default 35 */
        retentionDays: z.int().min(7, "at least 7 days").default(35),
        /** Days the copy in the other region is kept. @default 35 */
        copyRetentionDays: z.int().min(1, "at least 1 day").default(35),
        /**
         * AWS Backup Vault Lock on both vaults: recovery points cannot be deleted early, and
         * every backup and copy must keep its recovery point between `minRetentionDays` and
         * `maxRetentionDays` (both retentions above must lie in that range). `governance`: can
         * be removed by principals allowed to. `compliance` (with `changeableForDays` >= 3):
         * after that many days the lock is IMMUTABLE, for everyone including the root user and
         * AWS, and the vaults cannot be deleted until every recovery point has expired
         * (https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html).
         * @default - no vault lock
         */
        vaultLock: z
          .strictObject({
            mode: z.enum(VAULT_LOCK_MODES, { error: '"governance" or "compliance"' }),
            changeableForDays: z
              .int("changeableForDays as a whole number")
              .min(
                VAULT_LOCK_MIN_CHANGEABLE_DAYS,
                `at least ${VAULT_LOCK_MIN_CHANGEABLE_DAYS} days (AWS Backup's cooling-off period)`,
              )
              .optional(),
            minRetentionDays: positiveInt("minRetentionDays"),
            maxRetentionDays: positiveInt("maxRetentionDays"),
          })
          .optional(),
      })
      .superRefine((backup, ctx) => {
        const lock = backup.vaultLock;
        if (!lock) return;
        const issue = (field: string, input: unknown, message: string) =>
          ctx.addIssue({ code: "custom", path: ["vaultLock", field], input, message });
        if (lock.mode === "compliance" && lock.changeableForDays === undefined) {
          issue(
            "changeableForDays",
            undefined,
            `a number of days >= ${VAULT_LOCK_MIN_CHANGEABLE_DAYS} in compliance mode: the grace time after which the lock is immutable`,
          );
        }
        if (lock.mode === "governance" && lock.changeableForDays !== undefined) {
          issue(
            "changeableForDays",
            lock.changeableForDays,
            'no value in governance mode: a lock with changeableForDays is a compliance lock, immutable after that many days (use mode "compliance" if that is meant)',
          );
        }
        const { retentionDays, copyRetentionDays } = backup;
        const both = `backup.retentionDays (${retentionDays}) and backup.copyRetentionDays (${copyRetentionDays})`;
        if (lock.minRetentionDays > Math.min(retentionDays, copyRetentionDays)) {
          issue(
            "minRetentionDays",
            lock.minRetentionDays,
            `at most ${Math.min(retentionDays, copyRetentionDays)}, the shorter of ${both}: the vaults fail jobs that keep recovery points for less`,
          );
        }
        if (lock.maxRetentionDays < Math.max(retentionDays, copyRetentionDays)) {
          issue(
            "maxRetentionDays",
            lock.maxRetentionDays,
            `at least ${Math.max(retentionDays, copyRetentionDays)}, the longer of ${both}: the vaults fail jobs that keep recovery points for more`,
          );
        }
      })
      .default({ schedule: "cron(0 5 * * ? *)", retentionDays: 35, copyRetentionDays: 35 }),
    /** Extra tags on every resource, besides project, environment and dr-role. @default {} */
    tags: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((config, ctx) => {
    const issue = (path: (string | number)[], input: unknown, message: string) =>
      ctx.addIssue({ code: "custom", path, input, message });

    if (config.regions.primary === config.regions.secondary) {
      issue(
        ["regions", "secondary"],
        config.regions.secondary,
        `a region other than regions.primary (${config.regions.primary}): both roles in one region give no regional failover`,
      );
    }
    if (config.stateBackend.region === config.stateBackend.replicaRegion) {
      issue(
        ["stateBackend", "replicaRegion"],
        config.stateBackend.replicaRegion,
        `a region other than stateBackend.region (${config.stateBackend.region}), so state survives a regional outage`,
      );
    }

    const primaryCidr = parseIpv4Cidr(config.network.vpcCidr.primary);
    const secondaryCidr = parseIpv4Cidr(config.network.vpcCidr.secondary);
    if (primaryCidr && secondaryCidr && cidrsOverlap(primaryCidr, secondaryCidr)) {
      issue(
        ["network", "vpcCidr", "secondary"],
        config.network.vpcCidr.secondary,
        `a range that does not overlap network.vpcCidr.primary (${config.network.vpcCidr.primary}), so the regions can be peered and routed`,
      );
    }

    for (const role of REGION_ROLES) {
      const { minSize, desiredCapacity, maxSize } = config.compute[role];
      if (minSize > desiredCapacity || desiredCapacity > maxSize) {
        issue(
          ["compute", role, "desiredCapacity"],
          desiredCapacity,
          `minSize (${minSize}) <= desiredCapacity <= maxSize (${maxSize})`,
        );
      }
    }
    const { primary: primaryCompute, secondary: secondaryCompute } = config.compute;
    if (secondaryCompute.desiredCapacity > primaryCompute.desiredCapacity) {
      issue(
        ["compute", "secondary", "desiredCapacity"],
        secondaryCompute.desiredCapacity,
        `at most compute.primary.desiredCapacity (${primaryCompute.desiredCapacity}): the warm standby runs reduced capacity`,
      );
    }
    if (secondaryCompute.minSize > primaryCompute.minSize) {
      issue(
        ["compute", "secondary", "minSize"],
        secondaryCompute.minSize,
        `at most compute.primary.minSize (${primaryCompute.minSize}): the warm standby runs reduced capacity`,
      );
    }
    const { primary: primaryDb, secondary: secondaryDb } = config.database;
    if (secondaryDb.instances > primaryDb.instances) {
      issue(
        ["database", "secondary", "instances"],
        secondaryDb.instances,
        `at most database.primary.instances (${primaryDb.instances}): the warm standby runs reduced capacity`,
      );
    }
    if (config.environment === "prod" && primaryDb.instances < 2) {
      issue(
        ["database", "primary", "instances"],
        primaryDb.instances,
        "at least 2 in prod, so a writer failure inside the region fails over to a reader",
      );
    }
    // The DNS construct checks this too, but only the env file can name the file and the field.
    const { domainName, hostedZone } = config.dns;
    if (
      "name" in hostedZone &&
      hasFormat(DOMAIN_NAME, domainName) &&
      hasFormat(ZONE_NAME, hostedZone.name) &&
      domainName !== hostedZone.name &&
      !domainName.endsWith(`.${hostedZone.name}`)
    ) {
      issue(
        ["dns", "domainName"],
        domainName,
        `a name inside the hosted zone dns.hostedZone.name (${hostedZone.name}): ` +
          `${hostedZone.name} itself or a name ending in .${hostedZone.name}. Change ` +
          "dns.domainName, or set dns.hostedZone to the zone that holds it",
      );
    }
    for (const role of REGION_ROLES) {
      const { instanceClass } = config.database[role];
      if (!AURORA_GLOBAL_INSTANCE_CLASS.pattern.test(instanceClass)) {
        issue(
          ["database", role, "instanceClass"],
          instanceClass,
          AURORA_GLOBAL_INSTANCE_CLASS.expected,
        );
      }
    }
  });

/** A validated environment, with every default applied. */
export type EnvConfig = z.output<typeof envConfigSchema>;
// The role a region plays in the warm-standby pair, written once for every layer.
export { REGION_ROLES, type RegionRole } from "../../functions/shared/region-roles";
