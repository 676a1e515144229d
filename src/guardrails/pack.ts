import { ENV_FILE, type Rule, TERRAFORM_ADDRESS } from "./rule";
import { routesRequireIam, stagesWriteAccessLogs } from "./rules/apigateway";
import {
  dataCopiedToOtherRegion,
  dnsFailoverHealthChecked,
  failoverPathOutsidePrimary,
  recoveryPathInSecondary,
  regionalCounterparts,
  replicationMonitored,
  standbyCapacity,
} from "./rules/dr";
import {
  productionTablesProtected,
  tablesEncryptedWithKms,
  tablesRecoverToPointInTime,
} from "./rules/dynamodb";
import {
  instancesRequireImdsv2,
  noRemoteAdminFromInternet,
  onlyWebPortsFromInternet,
  volumesEncryptedWithKms,
} from "./rules/ec2";
import { loadBalancersWriteAccessLogs, productionLoadBalancersProtected } from "./rules/elb";
import { noFullAccessManagedPolicies, noWildcardActions, resourcesScoped } from "./rules/iam";
import { dataStoresUseCustomerManagedKeys, keysRotate } from "./rules/kms";
import {
  functionsLogToDeclaredGroups,
  logGroupsEncryptedWithKms,
  logGroupsExpire,
} from "./rules/logs";
import {
  databaseBackupsRetained,
  databasesEncryptedWithKms,
  productionDatabasesProtected,
} from "./rules/rds";
import {
  bucketsBlockPublicAccess,
  bucketsEncryptedWithKms,
  bucketsRequireTls,
  bucketsVersioned,
  productionBucketsKept,
} from "./rules/s3";

/**
 * The shopsmart guardrails: the security and DR rules of SPEC section 5, checked on every synth.
 * Ids are stable and never reused; a retired rule keeps its id out of circulation.
 */
export const GUARDRAILS: readonly Rule[] = [
  {
    id: "SS-S3-1",
    title: "S3 buckets encrypt with a KMS key",
    explanation:
      "Objects at rest are encrypted with a customer managed key of their region, so access to the data also needs access to the key, and key use is audited. Buckets that receive S3 server access logs use SSE-S3, because S3 cannot deliver access logs into SSE-KMS buckets.",
    fix: "build the bucket with SecureBucket and pass kmsKeyArn (the region's RegionalKey.keyArn)",
    level: "error",
    check: bucketsEncryptedWithKms,
  },
  {
    id: "SS-S3-2",
    title: "S3 buckets block all public access",
    explanation:
      "A bucket policy or ACL that makes objects public is the most common S3 data leak; the public access block makes S3 refuse such settings.",
    fix: "add an aws_s3_bucket_public_access_block with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets set to true (SecureBucket does this)",
    level: "error",
    check: bucketsBlockPublicAccess,
  },
  {
    id: "SS-S3-3",
    title: "S3 buckets deny requests without TLS",
    explanation:
      "Without a policy that denies aws:SecureTransport = false, S3 accepts plain-HTTP requests, and credentials-signed data travels unencrypted.",
    fix: 'give the bucket a policy statement that denies "s3:*" on the bucket and "<bucket arn>/*" to every principal when aws:SecureTransport is "false" (SecureBucket does this)',
    level: "error",
    check: bucketsRequireTls,
  },
  {
    id: "SS-S3-4",
    title: "S3 buckets are versioned",
    explanation:
      "Cross-region replication requires versioning on both sides, and versions are the undo for overwrites and deletes, including ones replicated from the other region.",
    fix: 'add an aws_s3_bucket_versioning with versioning_configuration { status = "Enabled" } (SecureBucket does this)',
    level: "error",
    check: bucketsVersioned,
  },
  {
    id: "SS-S3-5",
    title: "Production buckets are not force-destroyed",
    explanation:
      "force_destroy lets terraform destroy delete a bucket together with its objects; in production that turns a mistaken destroy into data loss.",
    fix: "set forceDestroy: false (the SecureBucket default) for production buckets",
    level: "error",
    check: productionBucketsKept,
  },
  {
    id: "SS-EC2-1",
    title: "Instances require IMDSv2",
    explanation:
      "IMDSv1 answers any request from the instance, so a server-side request forgery in the app can read the instance role's credentials; IMDSv2 requires a session token.",
    fix: 'set metadata_options { http_tokens = "required" } on the launch template or instance',
    level: "error",
    check: instancesRequireImdsv2,
  },
  {
    id: "SS-EC2-2",
    title: "No SSH or RDP from the internet",
    explanation:
      "Remote-administration ports open to 0.0.0.0/0 or ::/0 are scanned and brute-forced within minutes. Instances are reached through SSM Session Manager instead.",
    fix: `remove the rule (${TERRAFORM_ADDRESS}) and use SSM Session Manager; for break-glass SSH set compute.ssh.allowedCidr in ${ENV_FILE} to an office network, never the internet`,
    level: "error",
    check: noRemoteAdminFromInternet,
  },
  {
    id: "SS-EC2-3",
    title: "Only HTTP and HTTPS face the internet",
    explanation:
      "The shop serves TCP 80 (redirected) and 443 through its load balancers; any other port or an all-traffic rule open to the internet exposes a service nobody meant to publish.",
    fix: "admit from the internet only TCP 80 and 443 on the load balancer's security group; admit everything else from a security group (referenced_security_group_id) or a private CIDR",
    level: "error",
    check: onlyWebPortsFromInternet,
  },
  {
    id: "SS-EC2-4",
    title: "EBS volumes encrypt with a KMS key",
    explanation:
      "Volumes and their snapshots hold the instance's data at rest; a customer managed key keeps them unreadable outside the account's control.",
    fix: 'declare every volume with ebs { encrypted = "true", kms_key_id = <the region\'s key ARN> } (block_device_mappings on launch templates)',
    level: "error",
    check: volumesEncryptedWithKms,
  },
  {
    id: "SS-ELB-1",
    title: "Application Load Balancers write access logs",
    explanation:
      "Access logs are the only record of each request the load balancer received (client, path, status, latencies, target); without them a failover, an attack or a 5xx spike cannot be traced afterwards. The bucket must be SSE-S3 and grant Elastic Load Balancing write access.",
    fix: "pass accessLogs to Compute (Storage.loadBalancerAccessLogs of the same region), or set access_logs { bucket = <an SSE-S3 bucket in the region>, enabled = true } on the aws_lb",
    level: "error",
    check: loadBalancersWriteAccessLogs,
  },
  {
    id: "SS-ELB-2",
    title: "Production load balancers have deletion protection",
    explanation:
      "Deletion protection makes AWS refuse to delete the load balancer until it is switched off, so a mistaken destroy or console click cannot take the shop's entry point (and the DNS failover target) away.",
    fix: `set compute.loadBalancerDeletionProtection to true in ${ENV_FILE} (Compute sets enable_deletion_protection of ${TERRAFORM_ADDRESS} from it; on a load balancer built outside the Compute construct, set enable_deletion_protection = true)`,
    level: "error",
    check: productionLoadBalancersProtected,
  },
  {
    id: "SS-IAM-1",
    title: "No wildcard actions in IAM policies",
    explanation:
      'An allowed "*" or "<service>:*" grants every current and future action of the service, including destructive and permission-changing ones. The AWS default key-policy statement (the account root may use "kms:*" on the key, so IAM policies can grant it) is accepted.',
    fix: "list the actions the principal needs (partial wildcards such as kms:GenerateDataKey* are fine); replace NotAction allows with explicit actions",
    level: "error",
    check: noWildcardActions,
  },
  {
    id: "SS-IAM-2",
    title: "IAM policies scope their resources",
    explanation:
      'An identity policy that grants actions on "*" reaches every resource of that kind in the account. "*" is accepted only for actions that support no resource-level permissions (src/guardrails/rules/iam.ts lists them).',
    fix: 'name the ARNs the statement needs (constructs expose them, e.g. bucketArn, keyArn); put actions without resource-level permissions in a statement of their own with "*"',
    level: "error",
    check: resourcesScoped,
  },
  {
    id: "SS-IAM-3",
    title: "No full-access AWS managed policies",
    explanation:
      "AdministratorAccess, PowerUserAccess and *FullAccess policies grant far more than any role here needs, and AWS widens them over time.",
    fix: "attach a narrower AWS managed policy or write an inline policy (DataAwsIamPolicyDocument) with the needed actions and resources",
    level: "error",
    check: noFullAccessManagedPolicies,
  },
  {
    id: "SS-LOG-1",
    title: "Log groups set a retention",
    explanation:
      "Log groups without retention keep every event forever, which costs money and keeps personal data longer than needed.",
    fix: `set retention_in_days on ${TERRAFORM_ADDRESS}; the constructs set it from their logRetentionDays prop, and VPC flow logs from network.flowLogRetentionDays in ${ENV_FILE}`,
    level: "error",
    check: logGroupsExpire,
  },
  {
    id: "SS-LOG-2",
    title: "Log groups encrypt with a KMS key",
    explanation:
      "Logs hold request data and errors; encrypting them with the region's customer managed key keeps them under the same key controls as the data.",
    fix: "set kms_key_id on the aws_cloudwatch_log_group to the region's RegionalKey.keyArn (its key policy already admits CloudWatch Logs of that region)",
    level: "error",
    check: logGroupsEncryptedWithKms,
  },
  {
    id: "SS-LOG-3",
    title: "Lambda functions log to a declared log group",
    explanation:
      "If the stack does not declare a function's log group, Lambda creates /aws/lambda/<name> on first run without retention or our key, outside Terraform's control.",
    fix: "declare an aws_cloudwatch_log_group (retention and kms_key_id set) and point the function's logging_config.log_group at it, or name it /aws/lambda/<function_name>",
    level: "error",
    check: functionsLogToDeclaredGroups,
  },
  {
    id: "SS-API-1",
    title: "API routes require IAM authorization",
    explanation:
      "The failover API can move production traffic and promote databases; every route must require SigV4-signed requests from an IAM principal the account trusts.",
    fix: 'set authorization_type = "AWS_IAM" on every aws_apigatewayv2_route (authorization on REST methods and function URLs), and create routes explicitly instead of using the API\'s target',
    level: "error",
    check: routesRequireIam,
  },
  {
    id: "SS-API-2",
    title: "API stages write access logs",
    explanation:
      "Access logs record who called the failover API, when and with which result; without them a failover cannot be traced to a caller.",
    fix: "set access_log_settings { destination_arn = <a declared log group's ARN>, format = ... } on the stage",
    level: "error",
    check: stagesWriteAccessLogs,
  },
  {
    id: "SS-RDS-1",
    title: "Databases encrypt with a KMS key",
    explanation:
      "Database storage, snapshots and replicas inherit the cluster's encryption; a customer managed key of each region lets that region decrypt its copy when the other is gone.",
    fix: "set storage_encrypted = true and kms_key_id = the region's RegionalKey.keyArn (on the global cluster, storage_encrypted = true)",
    level: "error",
    check: databasesEncryptedWithKms,
  },
  {
    id: "SS-RDS-2",
    title: "Production databases have deletion protection",
    explanation:
      "Deletion protection makes AWS refuse to delete the database until it is switched off, so a mistaken destroy or console click cannot lose production data.",
    fix: `set database.deletionProtection to true in ${ENV_FILE} (Database sets deletion_protection of ${TERRAFORM_ADDRESS} from it; on a database built outside the Database construct, set deletion_protection = true)`,
    level: "error",
    check: productionDatabasesProtected,
  },
  {
    id: "SS-RDS-3",
    title: "Database backups are kept at least 7 days",
    explanation:
      "Automated backups bound how far back a point-in-time restore can go; a corruption noticed after the window cannot be undone.",
    fix: `set database.backupRetentionDays to 7 or more in ${ENV_FILE} (Database sets backup_retention_period of ${TERRAFORM_ADDRESS} from it; on a database built outside the Database construct, set backup_retention_period = 7 or more)`,
    level: "error",
    check: databaseBackupsRetained,
  },
  {
    id: "SS-KMS-1",
    title: "KMS keys rotate",
    explanation:
      "Yearly rotation limits how much data one key version protects; AWS keeps old versions for decryption, so rotation is free of downtime.",
    fix: "set enable_key_rotation = true (RegionalKey does this)",
    level: "error",
    check: keysRotate,
  },
  {
    id: "SS-KMS-2",
    title: "Topics, queues, secrets and vaults use customer managed keys",
    explanation:
      "AWS-managed keys (alias/aws/...) cannot be shared with other services' principals or controlled by key policy: CloudWatch alarms cannot publish to topics under alias/aws/sns, and secret replicas need a key in their own region.",
    fix: "pass the region's RegionalKey.keyArn as kms_master_key_id / kms_key_id / kms_key_arn (and as kms_key_id of each secret replica, in the replica's region)",
    level: "error",
    check: dataStoresUseCustomerManagedKeys,
  },
  {
    id: "SS-DDB-1",
    title: "DynamoDB tables encrypt with a KMS key",
    explanation:
      "Tables such as the operation ledger record every failover; a customer managed key puts them under the same key controls as the rest of the data.",
    fix: "set server_side_encryption { enabled = true, kms_key_arn = <the region's key ARN> } (and kms_key_arn on each replica)",
    level: "error",
    check: tablesEncryptedWithKms,
  },
  {
    id: "SS-DDB-2",
    title: "DynamoDB tables have point-in-time recovery",
    explanation:
      "Point-in-time recovery restores a table to any second of the last 35 days, the only undo for a bad write or delete.",
    fix: "set point_in_time_recovery { enabled = true }",
    level: "error",
    check: tablesRecoverToPointInTime,
  },
  {
    id: "SS-DDB-3",
    title: "Production DynamoDB tables have deletion protection",
    explanation:
      "Deletion protection makes AWS refuse to delete the table until it is switched off, so a mistaken destroy cannot lose the production ledger.",
    fix: `set database.deletionProtection to true in ${ENV_FILE} (Automation sets deletion_protection_enabled of the ledger, ${TERRAFORM_ADDRESS}, from it; on a table built outside the Automation construct, set deletion_protection_enabled = true)`,
    level: "error",
    check: productionTablesProtected,
  },
  {
    id: "SS-DR-1",
    title: "Every regional part has a counterpart in the secondary region",
    explanation:
      "The warm standby can only take over with what exists in its own region: every resource type built in the primary region must exist in the secondary region too (capacity may be smaller), and the app's SSM parameters under the same names. Global services (IAM, Route 53, CloudFront), the global database and dashboards are exempt; secrets and tables are checked by SS-DR-3.",
    fix: "build the construct once per region (same code, role from REGION_ROLES), or, if the part is deliberately single-region and the failover does not need it, suppress SS-DR-1 on it with the reason",
    level: "error",
    check: regionalCounterparts,
  },
  {
    id: "SS-DR-2",
    title: "The warm standby runs 1 to the active region's capacity",
    explanation:
      "A standby with no web or database instance has to cold-start during a failover, which breaks the RTO; one larger than the active region wastes money. The active region is the one the PRIMARY failover record points at.",
    fix: `in ${ENV_FILE}, give the standby role (secondary, or primary while activeRegion is "secondary") compute.<role>.minSize >= 1, compute.<role>.desiredCapacity <= the active role's and database.<role>.instances from 1 to the active role's (they set min_size, desired_capacity and the cluster instances of ${TERRAFORM_ADDRESS})`,
    level: "error",
    check: standbyCapacity,
  },
  {
    id: "SS-DR-3",
    title: "Replicas and backup copies go to the other region",
    explanation:
      "A copy in the same region dies with the region. S3 replication and backup copies must target the other region of the pair, every secret needs a replica there, and a DynamoDB table in the primary region needs a replica in the secondary.",
    fix: "point replication destinations and backup copy_action vaults at the other region's resources; add a replica block for the other region to secrets and primary-region tables",
    level: "error",
    check: dataCopiedToOtherRegion,
  },
  {
    id: "SS-DR-4",
    title: "S3 replication has time control, metrics and delete markers",
    explanation:
      "Replication Time Control gives the 15-minute objective the RPO budget relies on, metrics feed the replication alarms, and replicated delete markers keep the replica consistent for failback.",
    fix: 'enable destination.replication_time, destination.metrics and delete_marker_replication (status "Enabled") on every rule (BucketReplication does this)',
    level: "error",
    check: replicationMonitored,
  },
  {
    id: "SS-DR-5",
    title: "Nothing in the failover path lives only in the primary region",
    explanation:
      "The failover runs when the primary region is down: the automation outside the primary region must not invoke functions or state machines there, nor record to tables, topics or queues there.",
    fix: "build the invoked function, state machine, table or topic in the secondary region (the automation runs there) and reference that one",
    level: "error",
    check: failoverPathOutsidePrimary,
  },
  {
    id: "SS-DR-6",
    title: "DNS failover records are health-checked in pairs",
    explanation:
      "Route 53 moves traffic without any API call only if each failover record has a health check and a PRIMARY record has its SECONDARY partner (the data plane fails over first).",
    fix: "give both failover records a health_check_id (Dns.addFailoverRecords does this) and create them as a PRIMARY/SECONDARY pair for the same name",
    level: "error",
    check: dnsFailoverHealthChecked,
  },
  {
    id: "SS-DR-7",
    title: "Automatic failover is triggered and moves traffic from the secondary region",
    explanation:
      "The primary region, or us-east-1 (which may be the primary and hosts Route 53's metrics and API), can be the region that is down. Event rules that start automation on alarm state changes, forwarders to another region's bus, and the alarms that CloudWatch-alarm health checks follow must live in the secondary region, with the automation.",
    fix: "create the alarm, its event rule and its health check's alarm in the secondary region (Automation and Dns.trafficFence do), and drop forwarding rules from other regions",
    level: "error",
    check: recoveryPathInSecondary,
  },
];
