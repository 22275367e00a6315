import * as pulumi from "@pulumi/pulumi";
import { AccessLogBucket } from "./access-logs.js";
import { ComputeCluster } from "./cluster.js";
import { loadPlatformSettings } from "./config.js";
import { DataStores } from "./data.js";
import { Edge } from "./edge.js";
import { VpcEndpoints } from "./endpoints.js";
import { IdentitySecrets } from "./identity.js";
import { DatabaseMigration } from "./migration.js";
import { ContainerImage } from "./image.js";
import { Network } from "./network.js";
import { serviceProcesses } from "./processes.js";
import { SecurityGroups } from "./security.js";
import { GrpcService, type ProcessPlacement } from "./service.js";
import { platformTags, tagTaggableResources } from "./tags.js";
import { WebFirewall } from "./waf.js";

const settings = loadPlatformSettings();
// Staging and prod keep their data and their load balancer; dev can be torn down and rebuilt at will.
const keepData = settings.keepData;
const prefix = `inventory-${settings.environment}`;
pulumi.runtime.registerStackTransformation(tagTaggableResources(platformTags(settings.environment)));

const network = new Network(prefix, { natGatewayPerZone: settings.natGatewayPerZone, availabilityZones: settings.availabilityZones });
const firewall = new SecurityGroups(prefix, { vpcId: network.vpcId });
const endpoints = new VpcEndpoints(prefix, {
  vpcId: network.vpcId,
  subnetIds: network.privateSubnetIds,
  routeTableIds: network.privateRouteTableIds,
  securityGroupId: firewall.endpoints.id,
});
const data = new DataStores(prefix, {
  subnetIds: network.databaseSubnetIds,
  databaseSecurityGroupId: firewall.database.id,
  cacheSecurityGroupId: firewall.cache.id,
  database: settings.database,
  cache: settings.cache,
  databaseOwners: serviceProcesses.filter((p) => p.databaseSchema !== null),
  keepData,
});
const identity = new IdentitySecrets(prefix, {
  adminUsername: settings.admin.username,
  signingKeys: settings.signingKeys,
  keepData,
});
const cluster = new ComputeCluster(prefix, { vpcId: network.vpcId, serviceDomain: settings.serviceDomain });
const image = new ContainerImage(prefix, { prebuilt: settings.image, cpuArchitecture: settings.cpuArchitecture, keepData });

// Before any service rolls: each data-owning service's role created and its schema migrated, or the update fails.
const migration = new DatabaseMigration(`${prefix}-migrate`, {
  image: image.ref,
  imageRepositoryArn: image.pullRepositoryArn,
  imageDigest: image.digest,
  cpuArchitecture: settings.cpuArchitecture,
  ...settings.migrateSize,
  namePrefix: prefix,
  logRetentionDays: settings.logRetentionDays,
  logLevel: settings.logLevel,
  clusterArn: cluster.clusterArn,
  subnetIds: network.privateSubnetIds,
  securityGroupId: firewall.migrate.id,
  adminUrlSecret: data.databaseAdminUrlSecret,
  serviceUrlSecrets: data.serviceDatabaseUrlSecrets,
  prerequisites: [network, endpoints, firewall, data],
});

const placement: Omit<ProcessPlacement, "cpu" | "memory" | "tasks"> = {
  image: image.ref,
  imageRepositoryArn: image.pullRepositoryArn,
  cpuArchitecture: settings.cpuArchitecture,
  clusterArn: cluster.clusterArn,
  clusterName: cluster.clusterName,
  namespaceId: cluster.namespaceId,
  serviceDomain: cluster.serviceDomain,
  subnetIds: network.privateSubnetIds,
  namePrefix: prefix,
  logRetentionDays: settings.logRetentionDays,
  logLevel: settings.logLevel,
  startAfter: [migration.completed],
};

for (const process of serviceProcesses) {
  new GrpcService(process.name, {
    ...placement,
    ...settings.sizes[process.name],
    process,
    securityGroupId: firewall.services[process.name].id,
    // Its own role's URL, only if it keeps data; never the master's.
    databaseUrlSecret: data.serviceDatabaseUrlSecrets[process.name],
    redisUrlSecret: data.redisUrlSecret,
    serviceSecret: identity.serviceSecret,
    // Only the user service learns the first admin's password and holds the token signing keys.
    own:
      process.name === "user"
        ? {
            environment: { ADMIN_USERNAME: settings.admin.username, ADMIN_EMAIL: settings.admin.email },
            secrets: { ADMIN_PASSWORD: identity.adminPassword, AUTH_SIGNING_KEYS: identity.signingKeys },
          }
        : undefined,
  });
}

const accessLogs = new AccessLogBucket(`${prefix}-access-logs`, { retentionDays: settings.accessLogRetentionDays, keepData });
const edge = new Edge(`${prefix}-edge`, {
  ...placement,
  ...settings.sizes.edge,
  requestsPerTarget: settings.edgeRequestsPerTarget,
  vpcId: network.vpcId,
  publicSubnetIds: network.publicSubnetIds,
  loadBalancerSecurityGroupId: firewall.loadBalancer.id,
  securityGroupId: firewall.edge.id,
  redisUrlSecret: data.redisUrlSecret,
  serviceSecret: identity.serviceSecret,
  certificateArn: settings.certificateArn,
  domain: settings.domain,
  accessLogs: { bucket: accessLogs.bucketName, ready: accessLogs.policy },
  protectLoadBalancer: keepData,
});
if (settings.waf) {
  new WebFirewall(`${prefix}-edge`, { loadBalancerArn: edge.loadBalancerArn, rateLimitPer5Minutes: settings.waf.rateLimitPer5Minutes });
}

export const url = edge.url;
/** Where CI that builds elsewhere pushes; then `pulumi config set image <repositoryUrl>@sha256:…`. */
export const repositoryUrl = image.repositoryUrl;
/** What every task runs: `<repository>@sha256:<digest>`. */
export const imageRef = image.ref;
export const clusterName = cluster.clusterName;
export const serviceDomain = cluster.serviceDomain;
export const databaseAddress = data.databaseAddress;
export const accessLogBucket = accessLogs.bucketName;
/** The first admin's generated password: `aws secretsmanager get-secret-value --secret-id <this>`. */
export const adminPasswordSecretArn = identity.adminPassword.arn;
