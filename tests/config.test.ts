import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cronExpressionProblem } from "../src/config/cron-expression";
import { parseEnvironmentSelection } from "../src/config/environment-files";
import {
  jsonErrorOffset,
  loadEnvConfigs,
  loadEnvironmentSet,
  parseEnvConfig,
} from "../src/config/load";
import { EnvConfigError, EnvConfigErrors, UserInputError } from "../src/errors";
import {
  cidrsOverlap,
  formatIpv4Cidr,
  type Ipv4Cidr,
  parseIpv4Cidr,
  subnetCidr,
} from "../src/ipv4-cidr";
import { SHIPPED_ENVIRONMENTS } from "./support/shipped-environments";

/**
 * The environment-config schema and loader (src/config/) and the CIDR arithmetic they rely on.
 * Bad configs are envs/prod.json with one field changed, so each test shows exactly one rule.
 */

const ENVS = resolve(__dirname, "../envs");
const FOOTER = "Fix the file and run synth again; nothing was synthesized.";

type JsonObject = { [key: string]: unknown };

function readEnvFile(name: string): JsonObject {
  return JSON.parse(readFileSync(join(ENVS, `${name}.json`), "utf8")) as JsonObject;
}

/**
 * A fresh copy of envs/prod.json with each dotted path in `changes` set to its value; a value of
 * `undefined` removes the field.
 */
function prodWith(changes: Record<string, unknown>): JsonObject {
  const raw = readEnvFile("prod");
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split(".");
    const field = keys.pop() as string;
    const parent = keys.reduce((object, key) => object[key] as JsonObject, raw);
    if (value === undefined) delete parent[field];
    else parent[field] = value;
  }
  return raw;
}

/** The error `action` throws; fails the test if it throws nothing. */
function errorThrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error, but none was thrown");
}

/** The message of the EnvConfigError that parsing envs/prod.json with `changes` throws. */
function prodErrorMessage(changes: Record<string, unknown>): string {
  const error = errorThrownBy(() => parseEnvConfig(prodWith(changes), "envs/prod.json"));
  expect(error).toBeInstanceOf(EnvConfigError);
  return error.message;
}

/** The whole message for envs/prod.json with these problem lines. */
function invalidProdMessage(...problems: string[]): string {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  const lines = problems.map((problem) => `  - ${problem}`).join("\n");
  return `Invalid environment config envs/prod.json (${count}):\n${lines}\n${FOOTER}`;
}

/** Runs `use` on a fresh temporary directory holding `files`, then removes the directory. */
function withEnvDirectory(files: Record<string, string>, use: (directory: string) => void): void {
  const directory = mkdtempSync(join(tmpdir(), "shopsmart-config-test-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(directory, name), text);
    }
    use(directory);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const asJson = (value: unknown) => JSON.stringify(value, null, 2);

/** Parses a CIDR the test knows to be valid. */
function knownCidr(text: string): Ipv4Cidr {
  const cidr = parseIpv4Cidr(text);
  if (!cidr) throw new Error(`test setup: ${text} does not parse`);
  return cidr;
}

describe("shipped environments", () => {
  it("loads every file in envs/, sorted by name, with every field as written", () => {
    const configs = loadEnvConfigs(ENVS);
    expect(configs.map((config) => config.environment)).toEqual(SHIPPED_ENVIRONMENTS);
    expect(SHIPPED_ENVIRONMENTS).toContain("prod");
    for (const config of configs) {
      expect(config).toEqual(readEnvFile(config.environment));
    }
  });

  it("applies the documented defaults to every optional field left out", () => {
    const config = parseEnvConfig(
      prodWith({
        activeRegion: undefined,
        "stateBackend.locking": undefined,
        "network.natGateways": undefined,
        "network.flowLogRetentionDays": undefined,
        storage: undefined,
        "database.backupRetentionDays": undefined,
        "database.deletionProtection": undefined,
        "database.masterPasswordVersion": undefined,
        "dns.healthCheck": undefined,
        "dr.replicationLagAlarmSeconds": undefined,
        "automaticFailover.alarmMinutes": undefined,
        "automaticFailover.quorum": undefined,
        "automaticFailover.minimumIntervalMinutes": undefined,
        "drill.holdMinutes": undefined,
        "compute.targetCpuPercent": undefined,
        "compute.loadBalancerDeletionProtection": undefined,
        backup: undefined,
        tags: undefined,
      }),
      "envs/prod.json",
    );
    expect(config).toMatchObject({
      activeRegion: "primary",
      stateBackend: { locking: "lockfile" },
      network: { natGateways: "per-az", flowLogRetentionDays: 30 },
      storage: { noncurrentVersionRetentionDays: 30, accessLogRetentionDays: 90 },
      database: { backupRetentionDays: 7, deletionProtection: true, masterPasswordVersion: 1 },
      dns: { healthCheck: { intervalSeconds: 10, failureThreshold: 3, path: "/health" } },
      dr: { replicationLagAlarmSeconds: 60 },
      automaticFailover: { alarmMinutes: 3, quorum: 2, minimumIntervalMinutes: 30 },
      drill: { holdMinutes: 5 },
      compute: { targetCpuPercent: 50, loadBalancerDeletionProtection: true },
      backup: { schedule: "cron(0 5 * * ? *)", retentionDays: 35, copyRetentionDays: 35 },
      tags: {},
    });
    expect(config.compute.ssh).toBeUndefined();
  });

  it("fills defaults inside an optional object that is present but partial", () => {
    const config = parseEnvConfig(
      prodWith({ storage: {}, "dns.healthCheck": { intervalSeconds: 30 } }),
      "envs/prod.json",
    );
    expect(config.storage).toEqual({
      noncurrentVersionRetentionDays: 30,
      accessLogRetentionDays: 90,
    });
    expect(config.dns.healthCheck).toEqual({
      intervalSeconds: 30,
      failureThreshold: 3,
      path: "/health",
    });
  });
});

describe("activeRegion", () => {
  it("fails on a region id, naming the field, both roles and when to use secondary", () => {
    expect(prodErrorMessage({ activeRegion: "us-west-2" })).toEqual(
      invalidProdMessage(
        'activeRegion: got "us-west-2"; expected "primary" or "secondary", the role of the region that serves traffic (not a region id); set "secondary" after a failover so a re-apply keeps regions.secondary serving',
      ),
    );
  });

  it("fails on a value of the wrong type with the same guidance", () => {
    const message = prodErrorMessage({ activeRegion: 2 });
    expect(message).toContain(
      'activeRegion: got 2; expected "primary" or "secondary", the role of the region that serves traffic',
    );
    expect(message).not.toContain("Invalid option");
  });

  it("accepts secondary, the value an operator sets after a failover", () => {
    expect(
      parseEnvConfig(prodWith({ activeRegion: "secondary" }), "envs/prod.json").activeRegion,
    ).toBe("secondary");
  });
});

describe("load balancer deletion protection", () => {
  it("is off in dev, so cdktf destroy works there, and on in staging and prod", () => {
    const configs = loadEnvConfigs(ENVS);
    expect(
      Object.fromEntries(
        configs.map((config) => [
          config.environment,
          config.compute.loadBalancerDeletionProtection,
        ]),
      ),
    ).toMatchObject({ dev: false, prod: true, staging: true });
  });
});

describe("backup vault lock", () => {
  it("is off unless the file asks for one", () => {
    expect(parseEnvConfig(prodWith({}), "envs/prod.json").backup.vaultLock).toBeUndefined();
  });

  it("accepts a governance lock and a compliance lock around both retentions", () => {
    const governance = { mode: "governance", minRetentionDays: 7, maxRetentionDays: 35 };
    expect(
      parseEnvConfig(prodWith({ "backup.vaultLock": governance }), "envs/prod.json").backup
        .vaultLock,
    ).toEqual(governance);
    const compliance = { ...governance, mode: "compliance", changeableForDays: 3 };
    expect(
      parseEnvConfig(prodWith({ "backup.vaultLock": compliance }), "envs/prod.json").backup
        .vaultLock,
    ).toEqual(compliance);
  });

  it("fails on a compliance lock without grace time and a range that would fail the plan's own jobs", () => {
    expect(
      prodErrorMessage({
        "backup.copyRetentionDays": 14,
        "backup.vaultLock": { mode: "compliance", minRetentionDays: 30, maxRetentionDays: 30 },
      }),
    ).toEqual(
      invalidProdMessage(
        "backup.vaultLock.changeableForDays: missing; expected a number of days >= 3 in compliance mode: the grace time after which the lock is immutable",
        "backup.vaultLock.minRetentionDays: got 30; expected at most 14, the shorter of backup.retentionDays (35) and backup.copyRetentionDays (14): the vaults fail jobs that keep recovery points for less",
        "backup.vaultLock.maxRetentionDays: got 30; expected at least 35, the longer of backup.retentionDays (35) and backup.copyRetentionDays (14): the vaults fail jobs that keep recovery points for more",
      ),
    );
  });

  it("fails on a grace time under 3 days, and on a governance lock with one", () => {
    const range = { minRetentionDays: 7, maxRetentionDays: 35 };
    expect(
      prodErrorMessage({
        "backup.vaultLock": { mode: "compliance", changeableForDays: 2, ...range },
      }),
    ).toEqual(
      invalidProdMessage(
        "backup.vaultLock.changeableForDays: got 2; expected at least 3 days (AWS Backup's cooling-off period)",
      ),
    );
    expect(
      prodErrorMessage({
        "backup.vaultLock": { mode: "governance", changeableForDays: 3, ...range },
      }),
    ).toEqual(
      invalidProdMessage(
        'backup.vaultLock.changeableForDays: got 3; expected no value in governance mode: a lock with changeableForDays is a compliance lock, immutable after that many days (use mode "compliance" if that is meant)',
      ),
    );
  });

  it("fails on a lock mode AWS Backup does not have", () => {
    expect(
      prodErrorMessage({
        "backup.vaultLock": { mode: "strict", minRetentionDays: 7, maxRetentionDays: 35 },
      }),
    ).toEqual(
      invalidProdMessage(
        'backup.vaultLock.mode: got "strict"; expected "governance" or "compliance"',
      ),
    );
  });
});

describe("ssh access", () => {
  it("accepts a key pair reachable from one office range", () => {
    const config = parseEnvConfig(
      prodWith({ "compute.ssh": { keyName: "ops", allowedCidr: "203.0.113.0/24" } }),
      "envs/prod.json",
    );
    expect(config.compute.ssh).toEqual({ keyName: "ops", allowedCidr: "203.0.113.0/24" });
  });

  it("fails when SSH would be open to the internet", () => {
    expect(
      prodErrorMessage({ "compute.ssh": { keyName: "ops", allowedCidr: "0.0.0.0/0" } }),
    ).toEqual(
      invalidProdMessage(
        'compute.ssh.allowedCidr: got "0.0.0.0/0"; expected an IPv4 network narrower than 0.0.0.0/0, e.g. 203.0.113.0/24: SSH is never open to the internet',
      ),
    );
  });
});

describe("fields", () => {
  it("takes an optional reserved concurrency for the automation functions and refuses one Lambda cannot reserve", () => {
    expect(
      parseEnvConfig(prodWith({ automation: { reservedConcurrency: 5 } }), "envs/prod.json")
        .automation,
    ).toEqual({ reservedConcurrency: 5 });
    expect(prodErrorMessage({ automation: { reservedConcurrency: 0 } })).toEqual(
      invalidProdMessage(
        "automation.reservedConcurrency: got 0; expected automation.reservedConcurrency >= 1",
      ),
    );
  });

  it("fails on an Aurora version that left standard support or has no global database support, listing the allowed ones and where to add one", () => {
    expect(prodErrorMessage({ "database.engineVersion": "16.6" })).toEqual(
      invalidProdMessage(
        'database.engineVersion: got "16.6"; expected an Aurora PostgreSQL version with global database support, in standard support: 16.8 (LTS), 16.10, 16.11, 16.13, 17.6, 17.7 (LTS), 17.9 (to add one, see src/config/aurora-versions.ts)',
      ),
    );
  });

  it("fails on a state locking the S3 backend does not offer, listing the choices", () => {
    expect(prodErrorMessage({ "stateBackend.locking": "dynamodb" })).toEqual(
      invalidProdMessage(
        'stateBackend.locking: got "dynamodb"; expected one of "lockfile", "lockfile-and-table", "table"',
      ),
    );
  });

  it("fails on an unknown top-level field", () => {
    expect(prodErrorMessage({ colour: "blue" })).toEqual(
      invalidProdMessage(
        'colour: got "blue"; expected no such field; remove it or fix its spelling',
      ),
    );
  });

  it("fails on an unknown nested field, such as a misspelt optional one", () => {
    expect(prodErrorMessage({ "network.natGatway": "single" })).toEqual(
      invalidProdMessage(
        'network.natGatway: got "single"; expected no such field; remove it or fix its spelling',
      ),
    );
  });

  it("fails when a required field is missing", () => {
    expect(prodErrorMessage({ "alerts.email": undefined })).toEqual(
      invalidProdMessage("alerts.email: missing; expected this required field (string)"),
    );
  });

  it("fails when a required object is missing", () => {
    expect(prodErrorMessage({ dr: undefined })).toEqual(
      invalidProdMessage("dr: missing; expected this required field (object)"),
    );
  });

  it("fails when a field has the wrong type", () => {
    expect(prodErrorMessage({ "network.azCount": "3" })).toEqual(
      invalidProdMessage('network.azCount: got "3"; expected a number'),
    );
  });

  it("fails with every problem in the file listed at once", () => {
    expect(
      prodErrorMessage({ "network.azCount": 1, "alerts.email": "alerts-at-example.com" }),
    ).toEqual(
      "Invalid environment config envs/prod.json (2 problems):\n" +
        "  - network.azCount: got 1; expected at least 2 availability zones, so one AZ can fail\n" +
        '  - alerts.email: got "alerts-at-example.com"; expected an email address such as alerts@example.com\n' +
        "Fix the file and run synth again; nothing was synthesized.",
    );
  });
});

describe("names", () => {
  it('fails on a project or environment name with "--", which no RDS identifier allows', () => {
    const expected = "lower-case letters, digits and single '-', starting with a letter";
    expect(prodErrorMessage({ project: "shop--smart" })).toEqual(
      invalidProdMessage(`project: got "shop--smart"; expected a project name: ${expected}`),
    );
    // (envs/prod.json's environment must also be "prod", its file's name: a second problem.)
    expect(prodErrorMessage({ environment: "pr--od" })).toContain(
      `  - environment: got "pr--od"; expected an environment name: ${expected}\n`,
    );
  });
});

describe("regions", () => {
  it("fails on a region that does not exist", () => {
    expect(prodErrorMessage({ "regions.secondary": "us-west-9" })).toEqual(
      invalidProdMessage(
        'regions.secondary: got "us-west-9"; expected an AWS region id such as us-east-2 or eu-west-1',
      ),
    );
  });

  it("fails when the secondary region is the primary region", () => {
    expect(prodErrorMessage({ "regions.secondary": "us-east-2" })).toEqual(
      invalidProdMessage(
        'regions.secondary: got "us-east-2"; expected a region other than regions.primary (us-east-2): both roles in one region give no regional failover',
      ),
    );
  });

  it("fails when the state replica region is the state region", () => {
    expect(prodErrorMessage({ "stateBackend.replicaRegion": "us-east-2" })).toEqual(
      invalidProdMessage(
        'stateBackend.replicaRegion: got "us-east-2"; expected a region other than stateBackend.region (us-east-2), so state survives a regional outage',
      ),
    );
  });
});

describe("automatic failover", () => {
  it("accepts us-east-1 as the primary, the seed's default, like any other region", () => {
    const config = parseEnvConfig(
      prodWith({ "regions.primary": "us-east-1", "stateBackend.region": "us-east-1" }),
      "envs/prod.json",
    );
    expect(config.regions).toEqual({ primary: "us-east-1", secondary: "us-west-2" });
  });

  it("accepts any quorum from 1 to 3 and no minimum interval", () => {
    for (const quorum of [1, 2, 3]) {
      const config = parseEnvConfig(
        prodWith({
          "automaticFailover.quorum": quorum,
          "automaticFailover.minimumIntervalMinutes": 0,
        }),
        "envs/prod.json",
      );
      expect(config.automaticFailover).toMatchObject({ quorum, minimumIntervalMinutes: 0 });
    }
  });

  it("fails on a quorum outside the three detection signals, naming the field and what it counts", () => {
    const expected =
      "expected a whole number from 1 to 3: how many of the detection signals (endpoint, database, route53) must say the primary is down before automatic failover starts (2 keeps one failing signal from starting it)";
    for (const quorum of [0, 4, 1.5]) {
      expect(prodErrorMessage({ "automaticFailover.quorum": quorum })).toEqual(
        invalidProdMessage(`automaticFailover.quorum: got ${quorum}; ${expected}`),
      );
    }
  });

  it("says a whole number is expected where a field without its own message gets a fraction", () => {
    expect(prodErrorMessage({ "network.azCount": 2.5 })).toEqual(
      invalidProdMessage("network.azCount: got 2.5; expected a whole number"),
    );
  });

  it("fails on a negative or fractional minimum interval", () => {
    for (const minutes of [-1, 2.5]) {
      expect(prodErrorMessage({ "automaticFailover.minimumIntervalMinutes": minutes })).toEqual(
        invalidProdMessage(
          `automaticFailover.minimumIntervalMinutes: got ${minutes}; expected a whole number of minutes >= 0 between two automatic failovers (0 for no minimum)`,
        ),
      );
    }
  });
});

describe("network", () => {
  const badCidrExpected =
    "expected an IPv4 network a.b.c.d/n with n from 16 to 22 and no host bits set, e.g. 10.10.0.0/16";

  it("fails when the two VPC ranges overlap", () => {
    expect(prodErrorMessage({ "network.vpcCidr.secondary": "10.10.128.0/17" })).toEqual(
      invalidProdMessage(
        'network.vpcCidr.secondary: got "10.10.128.0/17"; expected a range that does not overlap network.vpcCidr.primary (10.10.0.0/16), so the regions can be peered and routed',
      ),
    );
  });

  it.each([
    { rule: "a malformed CIDR", cidr: "10.20.0/16" },
    { rule: "a CIDR with host bits set", cidr: "10.20.0.1/16" },
    { rule: "a prefix longer than /22", cidr: "10.20.0.0/24" },
    { rule: "a prefix shorter than /16", cidr: "172.16.0.0/12" },
  ])("fails on $rule ($cidr)", ({ cidr }) => {
    expect(prodErrorMessage({ "network.vpcCidr.secondary": cidr })).toEqual(
      invalidProdMessage(`network.vpcCidr.secondary: got "${cidr}"; ${badCidrExpected}`),
    );
  });

  it("fails with fewer than 2 availability zones", () => {
    expect(prodErrorMessage({ "network.azCount": 1 })).toEqual(
      invalidProdMessage(
        "network.azCount: got 1; expected at least 2 availability zones, so one AZ can fail",
      ),
    );
  });

  it("fails with more than 4 availability zones", () => {
    expect(prodErrorMessage({ "network.azCount": 5 })).toEqual(
      invalidProdMessage(
        "network.azCount: got 5; expected at most 4 availability zones (the subnet plan has room for 4)",
      ),
    );
  });
});

describe("capacity", () => {
  it("fails when the secondary desired capacity is above the primary's", () => {
    expect(prodErrorMessage({ "compute.secondary.desiredCapacity": 4 })).toEqual(
      invalidProdMessage(
        "compute.secondary.desiredCapacity: got 4; expected at most compute.primary.desiredCapacity (3): the warm standby runs reduced capacity",
      ),
    );
  });

  it("fails when the secondary minimum size is above the primary's", () => {
    expect(
      prodErrorMessage({
        "compute.primary.minSize": 1,
        "compute.secondary.minSize": 2,
        "compute.secondary.desiredCapacity": 2,
      }),
    ).toEqual(
      invalidProdMessage(
        "compute.secondary.minSize: got 2; expected at most compute.primary.minSize (1): the warm standby runs reduced capacity",
      ),
    );
  });

  it("fails when a capacity is below 1", () => {
    expect(prodErrorMessage({ "compute.secondary.desiredCapacity": 0 })).toEqual(
      invalidProdMessage(
        "compute.secondary.desiredCapacity: got 0; expected desiredCapacity >= 1",
        "compute.secondary.desiredCapacity: got 0; expected minSize (1) <= desiredCapacity <= maxSize (9)",
      ),
    );
  });

  it("fails when the desired capacity is not between minSize and maxSize", () => {
    expect(prodErrorMessage({ "compute.primary.maxSize": 2 })).toEqual(
      invalidProdMessage(
        "compute.primary.desiredCapacity: got 3; expected minSize (3) <= desiredCapacity <= maxSize (2)",
      ),
    );
  });

  it("fails when the secondary has more database instances than the primary", () => {
    expect(prodErrorMessage({ "database.secondary.instances": 3 })).toEqual(
      invalidProdMessage(
        "database.secondary.instances: got 3; expected at most database.primary.instances (2): the warm standby runs reduced capacity",
      ),
    );
  });

  it("fails when prod has a single primary database instance", () => {
    expect(prodErrorMessage({ "database.primary.instances": 1 })).toEqual(
      invalidProdMessage(
        "database.primary.instances: got 1; expected at least 2 in prod, so a writer failure inside the region fails over to a reader",
      ),
    );
  });

  it("allows a single primary database instance outside prod", () => {
    const dev = readEnvFile("dev");
    expect(parseEnvConfig(dev, "envs/dev.json").database.primary.instances).toBe(1);
  });

  it("fails on a burstable database instance class", () => {
    expect(prodErrorMessage({ "database.primary.instanceClass": "db.t4g.medium" })).toEqual(
      invalidProdMessage(
        'database.primary.instanceClass: got "db.t4g.medium"; expected a memory-optimized class such as db.r7g.large: Aurora global databases do not support burstable (db.t*) classes',
      ),
    );
  });
});

describe("names and addresses", () => {
  it("fails on a malformed email address", () => {
    expect(prodErrorMessage({ "alerts.email": "alerts-at-example.com" })).toEqual(
      invalidProdMessage(
        'alerts.email: got "alerts-at-example.com"; expected an email address such as alerts@example.com',
      ),
    );
  });

  it.each([
    { rule: "upper case", domain: "Shop.example.com" },
    { rule: "no dot", domain: "localhost" },
    { rule: "a double dot", domain: "shop..example.com" },
  ])("fails on a domain name with $rule ($domain)", ({ domain }) => {
    expect(prodErrorMessage({ "dns.domainName": domain })).toEqual(
      invalidProdMessage(
        `dns.domainName: got "${domain}"; expected a domain name such as shop.example.com (lower-case)`,
      ),
    );
  });

  it.each([
    { rule: "another zone", domain: "shop.example.org" },
    { rule: "a name that only ends like the zone", domain: "shopexample.com" },
  ])(
    "fails on a domain outside the hosted zone it is looked up in ($rule), naming dns.domainName",
    ({ domain }) => {
      expect(prodErrorMessage({ "dns.domainName": domain })).toEqual(
        invalidProdMessage(
          `dns.domainName: got "${domain}"; expected a name inside the hosted zone dns.hostedZone.name (example.com): example.com itself or a name ending in .example.com. Change dns.domainName, or set dns.hostedZone to the zone that holds it`,
        ),
      );
    },
  );

  it("accepts the zone's apex and any name inside it; a zone given by id is checked at plan time", () => {
    expect(
      parseEnvConfig(prodWith({ "dns.domainName": "example.com" }), "envs/prod.json"),
    ).toBeDefined();
    expect(
      parseEnvConfig(prodWith({ "dns.domainName": "a.b.example.com" }), "envs/prod.json"),
    ).toBeDefined();
    expect(
      parseEnvConfig(
        prodWith({ "dns.domainName": "shop.example.org", "dns.hostedZone": { id: "Z123" } }),
        "envs/prod.json",
      ),
    ).toBeDefined();
  });

  it("fails on a malformed hosted zone id", () => {
    expect(prodErrorMessage({ "dns.hostedZone": { id: "z123" } })).toEqual(
      invalidProdMessage(
        'dns.hostedZone.id: got "z123"; expected a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ',
      ),
    );
  });

  it("fails on a health path the web tier, Route 53 and the drill would not all take, with one message", () => {
    const expected =
      "expected a URL path starting with '/' of letters, digits, '_', '.', '/' and '-', at most 255 characters";
    for (const path of ["health", "/health check", "/health?full=1"]) {
      expect(prodErrorMessage({ "dns.healthCheck.path": path })).toEqual(
        invalidProdMessage(`dns.healthCheck.path: got ${JSON.stringify(path)}; ${expected}`),
      );
    }
    // 256 characters (the message shortens the value it quotes).
    const tooLong = prodErrorMessage({ "dns.healthCheck.path": `/${"a".repeat(255)}` });
    expect(tooLong).toContain("(1 problem)");
    expect(tooLong).toContain(`  - dns.healthCheck.path: got "/aaa`);
    expect(tooLong).toContain(`; ${expected}\n`);
    expect(
      parseEnvConfig(prodWith({ "dns.healthCheck.path": `/${"a".repeat(254)}` }), "envs/prod.json")
        .dns.healthCheck.path,
    ).toHaveLength(255);
  });

  it("fails on a hosted zone given both by id and by name", () => {
    expect(prodErrorMessage({ "dns.hostedZone": { id: "Z123", name: "example.com" } })).toEqual(
      invalidProdMessage(
        'dns.hostedZone: got {"id":"Z123","name":"example.com"}; expected either {"id": "Z..."} or {"name": "example.com"}',
      ),
    );
  });

  it("fails when the environment name is not the file name", () => {
    expect(prodErrorMessage({ environment: "staging" })).toEqual(
      invalidProdMessage(
        'environment: got "staging"; expected "prod", the name of the file it is in (or rename the file)',
      ),
    );
  });

  it("fails with the file-name mismatch reported beside the other problems of the file", () => {
    expect(prodErrorMessage({ environment: "staging", "network.azCount": 1 })).toEqual(
      invalidProdMessage(
        "network.azCount: got 1; expected at least 2 availability zones, so one AZ can fail",
        'environment: got "staging"; expected "prod", the name of the file it is in (or rename the file)',
      ),
    );
  });
});

describe("cron expressions", () => {
  it.each([
    "cron(0 6 ? * TUE *)",
    "cron(0/15 * * * ? *)",
    "cron(0 8 1 JAN-MAR ? 2027)",
    "cron(0 18 ? * 6L *)",
    "cron(0 10 ? * MON#1 *)",
    "cron(0 10 ? * fril *)",
    "cron(0 10 15W * ? *)",
    "cron(0 10 LW * ? *)",
  ])("accepts %s", (expression) => {
    expect(cronExpressionProblem(expression)).toBeUndefined();
  });

  it.each([
    {
      rule: "not cron(...)",
      expression: "rate(5 minutes)",
      problem: "the form cron(minutes hours day-of-month month day-of-week year)",
    },
    {
      rule: "5 fields",
      expression: "cron(0 6 ? * TUE)",
      problem:
        "6 fields inside cron(...), found 5: minutes hours day-of-month month day-of-week year",
    },
    {
      rule: "both days '?'",
      expression: "cron(0 6 ? * ? *)",
      problem: "exactly one of day-of-month and day-of-week to be '?', e.g. cron(0 6 ? * MON *)",
    },
    {
      rule: "neither day '?'",
      expression: "cron(0 6 1 * TUE *)",
      problem: "exactly one of day-of-month and day-of-week to be '?', e.g. cron(0 6 ? * MON *)",
    },
    {
      rule: "minute 60",
      expression: "cron(60 6 ? * TUE *)",
      problem: "minutes field '60' to be 0-59, a range, a list or a step",
    },
    {
      rule: "month 13",
      expression: "cron(0 6 ? 13 TUE *)",
      problem: "month field '13' to be 1-12 or JAN-DEC, a range, a list or a step",
    },
    {
      rule: "weekday 8",
      expression: "cron(0 6 ? * 8 *)",
      problem: "day-of-week field '8' to be 1-7 or SUN-SAT, a range, a list or a step",
    },
    {
      rule: "nearest weekday of day 99",
      expression: "cron(0 6 99W * ? *)",
      problem: "day-of-month field '99W' to be 1-31, a range, a list or a step",
    },
    {
      rule: "last of an unknown weekday",
      expression: "cron(0 18 ? * FOOL *)",
      problem: "day-of-week field 'FOOL' to be 1-7 or SUN-SAT, a range, a list or a step",
    },
    {
      rule: "last of weekday 9, lower case",
      expression: "cron(0 18 ? * 9l *)",
      problem: "day-of-week field '9l' to be 1-7 or SUN-SAT, a range, a list or a step",
    },
    {
      rule: "a step of 0",
      expression: "cron(*/0 6 ? * TUE *)",
      problem: "minutes field '*/0' to be 0-59, a range, a list or a step",
    },
  ])("fails with $rule: $expression", ({ expression, problem }) => {
    expect(cronExpressionProblem(expression)).toEqual(problem);
  });

  it("fails on a bad drill schedule in an environment file", () => {
    expect(prodErrorMessage({ "drill.schedule": "cron(0 6 ? * TUE)" })).toEqual(
      invalidProdMessage(
        'drill.schedule: got "cron(0 6 ? * TUE)"; expected 6 fields inside cron(...), found 5: minutes hours day-of-month month day-of-week year',
      ),
    );
  });
});

describe("loadEnvConfigs", () => {
  it("fails with the problems of every bad file in one error, skipping non-JSON files", () => {
    const files = {
      "dev.json": asJson({ ...readEnvFile("dev"), colour: "blue" }),
      "prod.json": asJson(prodWith({ "network.azCount": 5 })),
      "staging.json": asJson(readEnvFile("staging")),
      "README.md": "not an environment",
    };
    withEnvDirectory(files, (directory) => {
      const error = errorThrownBy(() => loadEnvConfigs(directory, directory));
      expect(error).toBeInstanceOf(EnvConfigErrors);
      expect((error as EnvConfigErrors).errors.map((e) => e.file)).toEqual([
        "dev.json",
        "prod.json",
      ]);
      expect(error.message).toEqual(
        "Invalid environment config dev.json (1 problem):\n" +
          '  - colour: got "blue"; expected no such field; remove it or fix its spelling\n' +
          "Fix the file and run synth again; nothing was synthesized.\n" +
          "\n" +
          "Invalid environment config prod.json (1 problem):\n" +
          "  - network.azCount: got 5; expected at most 4 availability zones (the subnet plan has room for 4)\n" +
          "Fix the file and run synth again; nothing was synthesized.",
      );
    });
  });

  it("fails on invalid JSON, naming the file, the line and the column", () => {
    const text = '{\n  "project": "shopsmart"\n  "environment": "prod"\n}\n';
    withEnvDirectory({ "prod.json": text }, (directory) => {
      const error = errorThrownBy(() => loadEnvConfigs(directory, directory));
      expect(error).toBeInstanceOf(EnvConfigErrors);
      expect(error.message).toEqual(
        "Invalid environment config prod.json (1 problem):\n" +
          `  - not valid JSON: line 3, column 3: Expected ',' or '}' after property value (line 3: "environment": "prod")\n` +
          "Fix the file and run synth again; nothing was synthesized.",
      );
    });
  });

  it("fails on a file that ends too early, at the line and column where it ends", () => {
    withEnvDirectory({ "prod.json": '{\n  "project": ' }, (directory) => {
      expect(errorThrownBy(() => loadEnvConfigs(directory, directory)).message).toContain(
        '  - not valid JSON: line 2, column 14: Unexpected end of JSON input (line 2: "project":)',
      );
    });
  });

  it("fails on an unexpected token, a message JSON.parse gives without a position, at its line and column", () => {
    const text = '{\n  "project": "shopsmart",\n  "environment": prod\n}\n';
    withEnvDirectory({ "prod.json": text }, (directory) => {
      expect(errorThrownBy(() => loadEnvConfigs(directory, directory)).message).toContain(
        `  - not valid JSON: line 3, column 18: Unexpected token 'p' (line 3: "environment": prod)\n`,
      );
    });
  });

  it.each([
    '{"a": 1 "b": 2}',
    "[1, 2,]",
    '{"a": 01}',
    '{"a": -}',
    '{"a": 1,}',
    '{"a": "\\x"}',
    '{"a": 1}x',
    '{"a": tru}',
    '{"a": 1.}',
    '{"a": "tab\there"}',
  ])("finds the offset JSON.parse reports for %s", (text) => {
    const message = errorThrownBy(() => JSON.parse(text)).message;
    const position = /at position (\d+)/.exec(message)?.[1];
    const offset = jsonErrorOffset(text);
    if (position !== undefined) expect(offset).toBe(Number(position));
    // Where JSON.parse gives no position (an unexpected token), the offset is still inside the text.
    expect(offset).toBeLessThan(text.length);
  });

  it("finds no error in the shipped env files (the offset is the end)", () => {
    for (const name of SHIPPED_ENVIRONMENTS) {
      const text = readFileSync(join(ENVS, `${name}.json`), "utf8");
      expect(jsonErrorOffset(text)).toBe(text.length);
    }
  });

  it("fails on a directory without environment files", () => {
    withEnvDirectory({ "README.md": "no environments here" }, (directory) => {
      const error = errorThrownBy(() => loadEnvConfigs(directory, directory));
      expect(error).toBeInstanceOf(EnvConfigErrors);
      expect(error.message).toEqual(
        `Invalid environment config ${directory} (1 problem):\n` +
          "  - no environment files; add one <env>.json per environment, e.g. envs/dev.json\n" +
          "Fix the file and run synth again; nothing was synthesized.",
      );
    });
  });
});

/** envs/ as files, with a copy of prod named `name` and `changes` applied to it. */
function shippedWithCopyOfProd(name: string, changes: Record<string, unknown>) {
  const copy = prodWith({ environment: name, ...changes });
  return {
    "dev.json": asJson(readEnvFile("dev")),
    "prod.json": asJson(readEnvFile("prod")),
    "staging.json": asJson(readEnvFile("staging")),
    [`${name}.json`]: asJson(copy),
  };
}

/** The changes that make a copy of prod its own environment (qa-like). */
const OWN_NAMES = {
  "dns.domainName": "copy.shop.example.com",
  "network.vpcCidr": { primary: "10.70.0.0/16", secondary: "10.80.0.0/16" },
};

describe("environments side by side", () => {
  it("loads a copy of prod with its own domain and VPC ranges, without warnings", () => {
    withEnvDirectory(shippedWithCopyOfProd("copy", OWN_NAMES), (directory) => {
      const set = loadEnvironmentSet(directory, { displayRoot: directory });
      expect(set.configs.map((c) => c.environment)).toEqual(["copy", "dev", "prod", "staging"]);
      expect(set.warnings).toEqual([]);
    });
  });

  it("fails on a copy that keeps prod's domain name, naming both files, the field and the fix", () => {
    const files = shippedWithCopyOfProd("copy", {
      "network.vpcCidr": OWN_NAMES["network.vpcCidr"],
    });
    withEnvDirectory(files, (directory) => {
      const error = errorThrownBy(() => loadEnvConfigs(directory, directory));
      expect(error).toBeInstanceOf(EnvConfigErrors);
      expect(error.message).toEqual(
        "Invalid environment config prod.json (1 problem):\n" +
          '  - dns.domainName: got "shop.example.com"; expected a name no other env file uses: copy.json has it too, and both stacks would own the same Route 53 failover records. Give this environment its own, e.g. "prod.shop.example.com" (inside dns.hostedZone)\n' +
          FOOTER,
      );
    });
  });

  it("fails on two files whose project and environment give the same resource name prefix", () => {
    // project "shopsmart" + environment "prod-eu" and project "shopsmart-prod" + "eu": both
    // name their resources shopsmart-prod-eu-*.
    const files = {
      "prod-eu.json": asJson(
        prodWith({ environment: "prod-eu", "dns.domainName": "eu1.shop.example.com" }),
      ),
      "eu.json": asJson(
        prodWith({
          project: "shopsmart-prod",
          environment: "eu",
          "dns.domainName": "eu2.shop.example.com",
          "network.vpcCidr": OWN_NAMES["network.vpcCidr"],
        }),
      ),
    };
    withEnvDirectory(files, (directory) => {
      expect(errorThrownBy(() => loadEnvConfigs(directory, directory)).message).toEqual(
        "Invalid environment config prod-eu.json (1 problem):\n" +
          '  - project: got "shopsmart"; expected a project and environment whose resource names no other env file uses: "shopsmart-prod-eu" starts the resource names of eu.json too (project "shopsmart-prod", environment "eu"), so the stacks would create resources with the same names. Rename the file (and its environment) or change project\n' +
          FOOTER,
      );
    });
  });

  it("catches a prefix that is another environment's per-region prefix", () => {
    const files = {
      "prod.json": asJson(readEnvFile("prod")),
      "primary.json": asJson(
        prodWith({ project: "shopsmart-prod", environment: "primary", ...OWN_NAMES }),
      ),
    };
    withEnvDirectory(files, (directory) => {
      expect(errorThrownBy(() => loadEnvConfigs(directory, directory)).message).toContain(
        '"shopsmart-prod-primary" starts the resource names of ',
      );
    });
  });

  it("warns, naming both files and fields, when a copy reuses another file's VPC ranges", () => {
    const files = shippedWithCopyOfProd("copy", { "dns.domainName": "copy.shop.example.com" });
    withEnvDirectory(files, (directory) => {
      const set = loadEnvironmentSet(directory, { displayRoot: directory });
      expect(set.configs).toHaveLength(4);
      expect(set.warnings).toEqual([
        "warning: prod.json network.vpcCidr.primary (10.10.0.0/16) overlaps copy.json network.vpcCidr.primary (10.10.0.0/16): the two VPCs can never be peered or share a transit gateway. If this is a copy, give it ranges no other env file uses.",
        "warning: prod.json network.vpcCidr.secondary (10.20.0.0/16) overlaps copy.json network.vpcCidr.secondary (10.20.0.0/16): the two VPCs can never be peered or share a transit gateway. If this is a copy, give it ranges no other env file uses.",
      ]);
    });
  });

  it("warns on a partial overlap across roles too (a /17 inside another file's /16)", () => {
    const files = shippedWithCopyOfProd("copy", {
      "dns.domainName": "copy.shop.example.com",
      "network.vpcCidr": { primary: "10.70.0.0/16", secondary: "10.10.128.0/17" },
    });
    withEnvDirectory(files, (directory) => {
      expect(loadEnvironmentSet(directory, { displayRoot: directory }).warnings).toEqual([
        expect.stringMatching(
          /^warning: prod\.json network\.vpcCidr\.primary \(10\.10\.0\.0\/16\) overlaps copy\.json network\.vpcCidr\.secondary \(10\.10\.128\.0\/17\)/,
        ),
      ]);
    });
  });
});

describe("a selection of environments (SHOPSMART_ENVS)", () => {
  const withBrokenDev = {
    "dev.json": '{ "project": ',
    "prod.json": asJson(readEnvFile("prod")),
    "staging.json": asJson(readEnvFile("staging")),
  };

  it("needs only the selected files to be valid; a broken other file is a warning with its problems", () => {
    withEnvDirectory(withBrokenDev, (directory) => {
      const set = loadEnvironmentSet(directory, { displayRoot: directory, selected: ["prod"] });
      expect(set.configs.map((c) => c.environment)).toEqual(["prod"]);
      expect(set.warnings).toEqual([
        "warning: dev.json is invalid and was skipped: SHOPSMART_ENVS=prod selects only prod. Fix it before the next synth of every environment, which refuses it:\n" +
          "Invalid environment config dev.json (1 problem):\n" +
          '  - not valid JSON: line 1, column 14: Unexpected end of JSON input (line 1: { "project":)',
      ]);
    });
  });

  it("still fails without a selection, and when the broken file is selected", () => {
    withEnvDirectory(withBrokenDev, (directory) => {
      expect(
        errorThrownBy(() => loadEnvironmentSet(directory, { displayRoot: directory })),
      ).toBeInstanceOf(EnvConfigErrors);
      const selected = errorThrownBy(() =>
        loadEnvironmentSet(directory, { displayRoot: directory, selected: ["prod", "dev"] }),
      );
      expect(selected).toBeInstanceOf(EnvConfigErrors);
      expect(selected.message).toMatch(/^Invalid environment config dev\.json \(1 problem\)/);
    });
  });

  it("keeps a collision an error whenever a selected environment is in it, and warns only when none is", () => {
    const files = shippedWithCopyOfProd("copy", {
      "network.vpcCidr": OWN_NAMES["network.vpcCidr"],
    });
    withEnvDirectory(files, (directory) => {
      // Neither prod nor its copy selected: both stay as they are, the selected one is built.
      const set = loadEnvironmentSet(directory, { displayRoot: directory, selected: ["dev"] });
      expect(set.configs.map((c) => c.environment)).toEqual(["dev"]);
      expect(set.warnings).toEqual([
        'warning: a synth of every environment refuses prod.json: dns.domainName: got "shop.example.com"; expected a name no other env file uses: copy.json has it too, and both stacks would own the same Route 53 failover records. Give this environment its own, e.g. "prod.shop.example.com" (inside dns.hostedZone)',
      ]);
      // Selecting the copy must not get it deployed onto the original's records, nor the other way.
      for (const selected of [["copy"], ["prod"], ["copy", "prod"]]) {
        expect(
          errorThrownBy(() => loadEnvironmentSet(directory, { displayRoot: directory, selected }))
            .message,
          selected.join(","),
        ).toMatch(/^Invalid environment config prod\.json \(1 problem\):\n {2}- dns\.domainName/);
      }
    });
  });

  it("fails on a selected environment that has no file, listing the ones there are", () => {
    withEnvDirectory(withBrokenDev, (directory) => {
      const error = errorThrownBy(() =>
        loadEnvironmentSet(directory, { displayRoot: directory, selected: ["no-such-env-zz9"] }),
      );
      expect(error).toBeInstanceOf(UserInputError);
      expect(error.message).toBe(
        `SHOPSMART_ENVS: Unknown environment "no-such-env-zz9": there is no ${directory}/no-such-env-zz9.json.\n` +
          "Available environments: dev, prod, staging.",
      );
    });
  });

  it("reads SHOPSMART_ENVS as comma-separated names; unset or empty selects every file", () => {
    expect(parseEnvironmentSelection(undefined)).toBeUndefined();
    expect(parseEnvironmentSelection(" ")).toBeUndefined();
    expect(parseEnvironmentSelection("prod")).toEqual(["prod"]);
    expect(parseEnvironmentSelection("dev, staging,dev")).toEqual(["dev", "staging"]);
  });

  it("fails on a SHOPSMART_ENVS that holds something other than names", () => {
    expect(errorThrownBy(() => parseEnvironmentSelection("prod,,dev")).message).toBe(
      'SHOPSMART_ENVS: got "prod,,dev"; expected environment names separated by commas, e.g. prod or dev,staging (unset means every env file)',
    );
    expect(errorThrownBy(() => parseEnvironmentSelection("envs/prod.json")).message).toMatch(
      /^SHOPSMART_ENVS: got "envs\/prod\.json"/,
    );
  });
});

describe("ipv4-cidr", () => {
  it("parses a network into its address and prefix length", () => {
    expect(parseIpv4Cidr("10.10.0.0/16")).toEqual({
      network: 10 * 2 ** 24 + 10 * 2 ** 16,
      prefixLength: 16,
    });
    expect(parseIpv4Cidr("0.0.0.0/0")).toEqual({ network: 0, prefixLength: 0 });
    expect(parseIpv4Cidr("255.255.255.255/32")).toEqual({
      network: 2 ** 32 - 1,
      prefixLength: 32,
    });
  });

  it.each([
    { rule: "a missing octet", text: "10.10.0/16" },
    { rule: "an octet above 255", text: "256.0.0.0/8" },
    { rule: "a prefix above 32", text: "10.0.0.0/33" },
    { rule: "host bits set", text: "10.10.0.1/16" },
    { rule: "surrounding spaces", text: " 10.10.0.0/16" },
    { rule: "no prefix", text: "10.10.0.0" },
    { rule: "leading zeros, which Terraform rejects", text: "010.010.0.0/16" },
  ])("fails to parse a network with $rule ($text)", ({ text }) => {
    expect(parseIpv4Cidr(text)).toBeUndefined();
  });

  it("finds overlap between a range and a range inside it, but not between neighbours", () => {
    expect(cidrsOverlap(knownCidr("10.10.0.0/16"), knownCidr("10.10.128.0/17"))).toBe(true);
    expect(cidrsOverlap(knownCidr("10.10.128.0/17"), knownCidr("10.10.0.0/16"))).toBe(true);
    expect(cidrsOverlap(knownCidr("10.10.0.0/16"), knownCidr("10.11.0.0/16"))).toBe(false);
    expect(cidrsOverlap(knownCidr("10.10.0.0/16"), knownCidr("10.20.0.0/16"))).toBe(false);
  });

  it.each([
    { parent: "10.10.0.0/16", newBits: 4, netNum: 5, expected: "10.10.80.0/20" },
    { parent: "172.16.0.0/12", newBits: 4, netNum: 2, expected: "172.18.0.0/16" },
    { parent: "10.1.2.0/24", newBits: 4, netNum: 15, expected: "10.1.2.240/28" },
    { parent: "10.10.0.0/16", newBits: 8, netNum: 255, expected: "10.10.255.0/24" },
    { parent: "10.10.0.0/16", newBits: 0, netNum: 0, expected: "10.10.0.0/16" },
  ])(
    "carves the subnet Terraform's cidrsubnet($parent, $newBits, $netNum) returns",
    ({ parent, newBits, netNum, expected }) => {
      expect(formatIpv4Cidr(subnetCidr(knownCidr(parent), newBits, netNum))).toBe(expected);
    },
  );

  it("fails to carve a subnet number that does not fit in the new bits", () => {
    const error = errorThrownBy(() => subnetCidr(knownCidr("10.10.0.0/16"), 4, 16));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toEqual("cannot carve subnet 16 of /20 from 10.10.0.0/16");
  });

  it("formats networks in dotted-quad notation, including the top of the address space", () => {
    expect(formatIpv4Cidr({ network: 0, prefixLength: 0 })).toBe("0.0.0.0/0");
    expect(formatIpv4Cidr({ network: 2 ** 32 - 1, prefixLength: 32 })).toBe("255.255.255.255/32");
    expect(formatIpv4Cidr({ network: 192 * 2 ** 24 + 168 * 2 ** 16 + 256, prefixLength: 24 })).toBe(
      "192.168.1.0/24",
    );
  });
});
