import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ProcessName, ServiceProcess } from "./processes.js";
import { storeSecret, type StoredSecret } from "./secrets.js";
import { postgresPort, redisPort } from "./security.js";

export interface DataStoresArgs {
  subnetIds: pulumi.Input<string>[];
  databaseSecurityGroupId: pulumi.Input<string>;
  cacheSecurityGroupId: pulumi.Input<string>;
  database: { instanceClass: string; allocatedStorageGb: number; multiAz: boolean };
  cache: { nodeType: string; nodes: number };
  /** The service processes that keep data: each gets its own role, password and DATABASE_URL. */
  databaseOwners: readonly ServiceProcess[];
  /**
   * Staging and prod data survive a `pulumi destroy` by mistake: Pulumi `protect` on the database and the cache,
   * deletion protection, final snapshot, longer backups.
   */
  keepData: boolean;
}

const databaseName = "inventory";

/**
 * Where the image keeps the RDS certificate bundle (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem),
 * handed to Node as NODE_EXTRA_CA_CERTS by every task that connects to Postgres: the URLs say `sslmode=verify-full`,
 * so the server's certificate must chain to a CA Node trusts and name the host connected to.
 */
export const rdsCaBundlePath = "/app/certs/rds-global-bundle.pem";

/** The Postgres role a service connects as: it owns its schema, and nothing else is granted to it. */
export const serviceRole = (schema: string) => `${schema}_service`;

/**
 * Server settings of the Postgres instance. `rds.force_ssl` refuses unencrypted connections even from inside the
 * VPC (the URLs say `sslmode=verify-full`); statements slower than `log_min_duration_statement` ms reach the
 * `postgresql` log, which is exported to CloudWatch.
 */
export const postgresParameters = {
  "rds.force_ssl": "1",
  log_min_duration_statement: "500",
  log_lock_waits: "1",
} as const;
const databaseUser = "inventory";

/**
 * Postgres 16 and Redis in the database subnets. Their credentials are generated here and handed to the
 * tasks only as Secrets Manager secrets holding full URLs: the master user's (`DATABASE_ADMIN_URL`, for the
 * migration task alone), each data-owning service's own (`DATABASE_URL`, role `<schema>_service`) and `REDIS_URL`.
 */
export class DataStores extends pulumi.ComponentResource {
  /** The master user's URL: creates the services' roles. Only the migration task reads it. */
  readonly databaseAdminUrlSecret: StoredSecret;
  /** Each data-owning service's own URL (its role and password), by process. */
  readonly serviceDatabaseUrlSecrets: Partial<Record<ProcessName, StoredSecret>>;
  readonly redisUrlSecret: StoredSecret;
  readonly databaseAddress: pulumi.Output<string>;

  constructor(name: string, args: DataStoresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:DataStores", name, {}, opts);
    const child = { parent: this };

    // Letters and digits only, so the values need no escaping inside a URL.
    const databasePassword = new random.RandomPassword(`${name}-database-password`, { length: 40, special: false }, child);
    const cacheAuthToken = new random.RandomPassword(`${name}-cache-auth-token`, { length: 64, special: false }, child);

    const databaseSubnets = new aws.rds.SubnetGroup(`${name}-database`, { subnetIds: args.subnetIds }, child);
    const parameters = new aws.rds.ParameterGroup(
      `${name}-postgres16`,
      {
        family: "postgres16",
        description: "Inventory platform Postgres 16: TLS only, slow statements logged",
        parameters: Object.entries(postgresParameters).map(([parameter, value]) => ({ name: parameter, value })),
      },
      child,
    );
    // Pulumi refuses to delete a protected resource: removing it from the program or `pulumi destroy` fails first.
    const keep = { parent: this, protect: args.keepData };
    const database = new aws.rds.Instance(
      `${name}-postgres`,
      {
        engine: "postgres",
        engineVersion: "16",
        instanceClass: args.database.instanceClass,
        allocatedStorage: args.database.allocatedStorageGb,
        maxAllocatedStorage: args.database.allocatedStorageGb * 4,
        storageType: "gp3",
        storageEncrypted: true,
        multiAz: args.database.multiAz,
        dbName: databaseName,
        username: databaseUser,
        password: databasePassword.result,
        port: postgresPort,
        dbSubnetGroupName: databaseSubnets.name,
        vpcSecurityGroupIds: [args.databaseSecurityGroupId],
        publiclyAccessible: false,
        backupRetentionPeriod: args.keepData ? 14 : 1,
        deletionProtection: args.keepData,
        skipFinalSnapshot: !args.keepData,
        finalSnapshotIdentifier: args.keepData ? `${name}-postgres-final` : undefined,
        copyTagsToSnapshot: true,
        autoMinorVersionUpgrade: true,
        applyImmediately: !args.keepData,
        parameterGroupName: parameters.name,
        // Seven days of Performance Insights are free; they show which statements the load comes from.
        performanceInsightsEnabled: true,
        performanceInsightsRetentionPeriod: 7,
        enabledCloudwatchLogsExports: ["postgresql"],
      },
      keep,
    );
    this.databaseAddress = database.address;

    const cacheSubnets = new aws.elasticache.SubnetGroup(`${name}-cache`, { subnetIds: args.subnetIds }, child);
    const failover = args.cache.nodes > 1;
    const cache = new aws.elasticache.ReplicationGroup(
      `${name}-redis`,
      {
        description: "Caches, token revocation, rate limits and event streams of the inventory platform",
        engine: "redis",
        engineVersion: "7.1",
        nodeType: args.cache.nodeType,
        numCacheClusters: args.cache.nodes,
        automaticFailoverEnabled: failover,
        multiAzEnabled: failover,
        port: redisPort,
        subnetGroupName: cacheSubnets.name,
        securityGroupIds: [args.cacheSecurityGroupId],
        atRestEncryptionEnabled: true,
        // An AUTH token requires TLS, hence rediss:// below.
        transitEncryptionEnabled: true,
        authToken: cacheAuthToken.result,
        snapshotRetentionLimit: args.keepData ? 7 : 0,
        applyImmediately: !args.keepData,
      },
      keep,
    );

    // TLS, and the server's certificate checked against the RDS CA bundle (rdsCaBundlePath) and the host name.
    const databaseUrl = (user: pulumi.Input<string>, password: pulumi.Input<string>) =>
      pulumi.interpolate`postgres://${user}:${password}@${database.address}:${database.port}/${databaseName}?sslmode=verify-full`;
    this.databaseAdminUrlSecret = storeSecret(
      `${name}-database-admin-url`,
      "DATABASE_ADMIN_URL of the migration task: the master user, which creates each service's role",
      databaseUrl(databaseUser, databasePassword.result),
      args.keepData,
      this,
    );
    this.serviceDatabaseUrlSecrets = {};
    for (const owner of args.databaseOwners) {
      if (owner.databaseSchema === null) throw new Error(`${owner.name} keeps no data: it gets no database role`);
      const password = new random.RandomPassword(`${name}-${owner.name}-database-password`, { length: 40, special: false }, child);
      this.serviceDatabaseUrlSecrets[owner.name] = storeSecret(
        `${name}-${owner.name}-database-url`,
        `DATABASE_URL of the ${owner.name} service: role ${serviceRole(owner.databaseSchema)}, owner of schema ${owner.databaseSchema}`,
        databaseUrl(serviceRole(owner.databaseSchema), password.result),
        args.keepData,
        this,
      );
    }
    const redisUrl = pulumi.interpolate`rediss://:${cacheAuthToken.result}@${cache.primaryEndpointAddress}:${redisPort}`;
    this.redisUrlSecret = storeSecret(`${name}-redis-url`, "REDIS_URL of the services and the edge", redisUrl, args.keepData, this);

    this.registerOutputs({
      databaseAdminUrlSecretArn: this.databaseAdminUrlSecret.arn,
      redisUrlSecretArn: this.redisUrlSecret.arn,
      databaseAddress: this.databaseAddress,
    });
  }
}
