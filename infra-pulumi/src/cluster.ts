import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ComputeClusterArgs {
  vpcId: pulumi.Input<string>;
  /** The private DNS zone services register in, e.g. `inventory.internal`. */
  serviceDomain: string;
}

/** The ECS cluster every process runs in, and the Cloud Map namespace through which they find each other. */
export class ComputeCluster extends pulumi.ComponentResource {
  readonly clusterArn: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly namespaceId: pulumi.Output<string>;
  readonly serviceDomain: string;

  constructor(name: string, args: ComputeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:ComputeCluster", name, {}, opts);
    const cluster = new aws.ecs.Cluster(
      name,
      {
        settings: [{ name: "containerInsights", value: "enabled" }],
      },
      { parent: this },
    );
    const namespace = new aws.servicediscovery.PrivateDnsNamespace(
      name,
      {
        name: args.serviceDomain,
        vpc: args.vpcId,
        description: "gRPC services of the inventory platform",
      },
      { parent: this },
    );

    this.clusterArn = cluster.arn;
    this.clusterName = cluster.name;
    this.namespaceId = namespace.id;
    this.serviceDomain = args.serviceDomain;
    this.registerOutputs({ clusterArn: this.clusterArn, namespaceId: this.namespaceId });
  }
}
