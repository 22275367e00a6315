import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export const vpcCidr = "10.0.0.0/16";

/** One subnet per tier and zone: entry i of each tier lives in the i-th availability zone. */
export const subnetCidrs = {
  public: ["10.0.1.0/24", "10.0.2.0/24"],
  private: ["10.0.10.0/24", "10.0.11.0/24"],
  database: ["10.0.20.0/24", "10.0.21.0/24"],
} as const;

type Tier = keyof typeof subnetCidrs;

export interface NetworkArgs {
  /** One NAT gateway per zone (a zone outage leaves the other zone online) or one shared (cheaper). */
  natGatewayPerZone: boolean;
  /**
   * Zone i holds subnet i of every tier. Pinned in the stack rather than looked up: a lookup returns whatever
   * the region offers today, and a different answer later would replace subnets (and everything in them).
   */
  availabilityZones: readonly string[];
}

/**
 * VPC over two zones: public subnets (load balancer, NAT), private subnets (tasks, outbound through NAT)
 * and database subnets (RDS, ElastiCache) that have no route out of the VPC at all.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly cidrBlock = vpcCidr;
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];
  /** One per private subnet: the S3 gateway endpoint adds its route to each. */
  readonly privateRouteTableIds: pulumi.Output<string>[];
  readonly databaseSubnetIds: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:Network", name, {}, opts);
    const child = { parent: this };

    const zone = (index: number) => {
      const found = args.availabilityZones[index];
      if (!found) throw new Error(`${name} needs ${subnetCidrs.public.length} availability zones, got ${args.availabilityZones.length}`);
      return found;
    };

    const vpc = new aws.ec2.Vpc(
      name,
      {
        cidrBlock: vpcCidr,
        enableDnsSupport: true,
        // Cloud Map private DNS and RDS/ElastiCache endpoints resolve only with DNS hostnames on.
        enableDnsHostnames: true,
        tags: { Name: name },
      },
      child,
    );
    this.vpcId = vpc.id;

    const subnets = (tier: Tier) =>
      subnetCidrs[tier].map(
        (cidrBlock, i) =>
          new aws.ec2.Subnet(
            `${name}-${tier}-${i + 1}`,
            {
              vpcId: vpc.id,
              cidrBlock,
              availabilityZone: zone(i),
              mapPublicIpOnLaunch: false,
              tags: { Name: `${name}-${tier}-${i + 1}`, tier },
            },
            child,
          ),
      );
    const publicSubnets = subnets("public");
    const privateSubnets = subnets("private");
    const databaseSubnets = subnets("database");

    const internetGateway = new aws.ec2.InternetGateway(name, { vpcId: vpc.id, tags: { Name: name } }, child);
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id }],
        tags: { Name: `${name}-public` },
      },
      child,
    );
    associate(`${name}-public`, publicSubnets, () => publicRoutes, this);

    const natCount = args.natGatewayPerZone ? publicSubnets.length : 1;
    const natGateways = publicSubnets.slice(0, natCount).map((subnet, i) => {
      const address = new aws.ec2.Eip(`${name}-nat-${i + 1}`, { domain: "vpc", tags: { Name: `${name}-nat-${i + 1}` } }, child);
      return new aws.ec2.NatGateway(
        `${name}-nat-${i + 1}`,
        {
          allocationId: address.id,
          subnetId: subnet.id,
          tags: { Name: `${name}-nat-${i + 1}` },
        },
        { parent: this, dependsOn: [internetGateway] },
      );
    });
    const privateRoutes = privateSubnets.map((_, i) => {
      const nat = natGateways[i] ?? natGateways[0];
      return new aws.ec2.RouteTable(
        `${name}-private-${i + 1}`,
        {
          vpcId: vpc.id,
          routes: nat ? [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }] : [],
          tags: { Name: `${name}-private-${i + 1}` },
        },
        child,
      );
    });
    associate(`${name}-private`, privateSubnets, (i) => privateRoutes[i], this);

    // Only the implicit local route: the databases neither reach nor are reached from outside the VPC.
    const databaseRoutes = new aws.ec2.RouteTable(
      `${name}-database`,
      {
        vpcId: vpc.id,
        tags: { Name: `${name}-database` },
      },
      child,
    );
    associate(`${name}-database`, databaseSubnets, () => databaseRoutes, this);

    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.privateRouteTableIds = privateRoutes.map((t) => t.id);
    this.databaseSubnetIds = databaseSubnets.map((s) => s.id);
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      databaseSubnetIds: this.databaseSubnetIds,
    });
  }
}

function associate(name: string, subnets: aws.ec2.Subnet[], routeTableOf: (index: number) => aws.ec2.RouteTable | undefined, parent: pulumi.Resource): void {
  subnets.forEach((subnet, i) => {
    const routeTable = routeTableOf(i);
    if (!routeTable) throw new Error(`no route table for ${name}-${i + 1}`);
    new aws.ec2.RouteTableAssociation(`${name}-${i + 1}`, { subnetId: subnet.id, routeTableId: routeTable.id }, { parent });
  });
}
