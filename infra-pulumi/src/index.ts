import * as pulumi from "@pulumi/pulumi";
import { AccessLogBucket } from "./access-logs.js";
import { ComputeCluster } from "./cluster.js";
import { loadPlatformSettings } from "./config.js";
import { DataStores } from "./data.js";
import { Edge } from "./edge.js";
import { IdentitySecrets } from "./identity.js";
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
const data = new DataStores(prefix, {
  subnetIds: network.databaseSubnetIds,
  databaseSecurityGroupId: firewall.database.id,
  cacheSecurityGroupId: firewall.cache.id,
  database: settings.database,
  cache: settings.cache,
  keepData,
});
const identity = new IdentitySecrets(prefix, {
  adminUsername: settings.admin.username,
  signingKeys: settings.signingKeys,
  keepData,
});
const cluster = new ComputeCluster(prefix, { vpcId: network.vpcId, serviceDomain: settings.serviceDomain });

const placement: ProcessPlacement = {
  image: settings.image,
  cpu: settings.tasks.cpu,
  memory: settings.tasks.memory,
  tasks: { min: settings.tasks.min, max: settings.tasks.max },
  clusterArn: cluster.clusterArn,
  clusterName: cluster.clusterName,
  namespaceId: cluster.namespaceId,
  serviceDomain: cluster.serviceDomain,
  subnetIds: network.privateSubnetIds,
  namePrefix: prefix,
  logRetentionDays: settings.logRetentionDays,
  logLevel: settings.logLevel,
};

for (const process of serviceProcesses) {
  new GrpcService(process.name, {
    ...placement,
    process,
    securityGroupId: firewall.services[process.name].id,
    databaseUrlSecret: data.databaseUrlSecret,
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
export const clusterName = cluster.clusterName;
export const serviceDomain = cluster.serviceDomain;
export const databaseAddress = data.databaseAddress;
export const accessLogBucket = accessLogs.bucketName;
/** The first admin's generated password: `aws secretsmanager get-secret-value --secret-id <this>`. */
export const adminPasswordSecretArn = identity.adminPassword.arn;
