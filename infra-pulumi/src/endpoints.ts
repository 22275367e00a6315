import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** AWS APIs the tasks (rather, ECS on their behalf) call: image manifests, image auth, logs, secrets. */
export const interfaceEndpointServices = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"] as const;

export interface VpcEndpointsArgs {
  vpcId: pulumi.Input<string>;
  /** The private subnets (the tasks'): one endpoint network interface in each. */
  subnetIds: pulumi.Input<string>[];
  /** The private subnets' route tables: the S3 gateway endpoint's route goes in each. */
  routeTableIds: pulumi.Input<string>[];
  /** Admits HTTPS from the tasks only (SecurityGroups.endpoints). */
  securityGroupId: pulumi.Input<string>;
}

/**
 * Private ways to the AWS APIs a task needs before its process runs: interface endpoints for ECR (API and registry),
 * CloudWatch Logs and Secrets Manager in the private subnets, with private DNS so the usual hostnames resolve to
 * them, and a gateway endpoint for S3, where ECR keeps image layers. Image pulls, logs and secrets then stay inside
 * the VPC instead of crossing the NAT gateways (and their per-GB charge), and keep working if NAT fails.
 */
export class VpcEndpoints extends pulumi.ComponentResource {
  constructor(name: string, args: VpcEndpointsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:VpcEndpoints", name, {}, opts);
    const child = { parent: this };
    const region = aws.getRegionOutput({}, child).region;

    for (const service of interfaceEndpointServices) {
      const short = service.replace(".", "-");
      new aws.ec2.VpcEndpoint(
        `${name}-${short}`,
        {
          vpcId: args.vpcId,
          serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: args.subnetIds,
          securityGroupIds: [args.securityGroupId],
          tags: { Name: `${name}-${short}` },
        },
        child,
      );
    }
    new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: args.vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: args.routeTableIds,
        tags: { Name: `${name}-s3` },
      },
      child,
    );
    this.registerOutputs({});
  }
}
