import { edgeCommand } from "@inv/service-catalog";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { loadBalancerLogPrefix } from "./access-logs.js";
import { FargateService } from "./fargate.js";
import { edgeProcess, grpcTargets } from "./processes.js";
import type { StoredSecret } from "./secrets.js";
import type { ProcessPlacement } from "./service.js";

export interface EdgeArgs extends ProcessPlacement {
  vpcId: pulumi.Input<string>;
  publicSubnetIds: pulumi.Input<string>[];
  loadBalancerSecurityGroupId: pulumi.Input<string>;
  securityGroupId: pulumi.Input<string>;
  redisUrlSecret: StoredSecret;
  /** SERVICE_SECRET: the edge signs its service identity on every call it forwards. */
  serviceSecret: StoredSecret;
  /** With a certificate the load balancer serves HTTPS on 443 and redirects 80 to it. */
  certificateArn: string | undefined;
  /** With a domain (and a certificate), an alias record for it points at the load balancer, and `url` uses it. */
  domain: { name: string; hostedZoneId: string } | undefined;
  /** Bucket for the load balancer's access logs; `ready` is its policy, which must exist before logging starts. */
  accessLogs: { bucket: pulumi.Input<string>; ready: pulumi.Resource };
  /** Production keeps its load balancer (and so its DNS name) against an accidental delete. */
  protectLoadBalancer: boolean;
  /** Requests a minute per edge task that autoscaling keeps to (ALBRequestCountPerTarget). */
  requestsPerTarget: number;
}

/** Proxies between the internet and the edge that append to X-Forwarded-For: the ALB. */
export const loadBalancerHops = 1;

/**
 * The public way in: an internet-facing ALB forwarding to the edge tasks (REST, Connect, gRPC-Web on HTTP/1.1),
 * which forward to the gRPC services through Cloud Map names.
 */
export class Edge extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly loadBalancerArn: pulumi.Output<string>;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:Edge", name, {}, opts);
    const child = { parent: this };

    const loadBalancer = new aws.lb.LoadBalancer(
      name,
      {
        loadBalancerType: "application",
        internal: false,
        subnets: args.publicSubnetIds,
        securityGroups: [args.loadBalancerSecurityGroupId],
        dropInvalidHeaderFields: true,
        enableDeletionProtection: args.protectLoadBalancer,
        accessLogs: { bucket: args.accessLogs.bucket, prefix: loadBalancerLogPrefix, enabled: true },
      },
      // AWS tests that it may write to the bucket when access logging is turned on.
      { parent: this, dependsOn: [args.accessLogs.ready] },
    );
    this.loadBalancerArn = loadBalancer.arn;

    const targets = new aws.lb.TargetGroup(
      name,
      {
        targetType: "ip",
        vpcId: args.vpcId,
        port: edgeProcess.httpPort,
        protocol: "HTTP",
        // /readyz fails while the edge cannot reach its upstreams, so traffic only goes to tasks that can serve it.
        healthCheck: {
          // Liveness, not readiness: one upstream down must not take every edge out of the target group.
          path: edgeProcess.livenessPath,
          port: "traffic-port",
          protocol: "HTTP",
          matcher: "200",
          interval: 15,
          timeout: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
        },
        // Matches the container's 30 s stop timeout: connections drain before the task is killed.
        deregistrationDelay: 30,
      },
      child,
    );

    const forward = [{ type: "forward", targetGroupArn: targets.arn }];
    const listener = args.certificateArn
      ? this.httpsListeners(name, loadBalancer, args.certificateArn, forward)
      : new aws.lb.Listener(`${name}-http`, { loadBalancerArn: loadBalancer.arn, port: 80, protocol: "HTTP", defaultActions: forward }, child);
    const scheme = args.certificateArn ? "https" : "http";
    this.url = args.domain ? this.aliasRecord(name, loadBalancer, args.domain, scheme) : pulumi.interpolate`${scheme}://${loadBalancer.dnsName}`;

    new FargateService(
      edgeProcess.name,
      {
        ...args,
        processName: edgeProcess.name,
        container: {
          command: edgeCommand(Number(args.memory)),
          port: edgeProcess.httpPort,
          environment: {
            HTTP_HOST: "0.0.0.0",
            HTTP_PORT: String(edgeProcess.httpPort),
            LOG_LEVEL: args.logLevel,
            // The ALB appends the client's address to X-Forwarded-For: one hop, whose entry the edge trusts.
            TRUST_PROXY_HOPS: String(loadBalancerHops),
            ...Object.fromEntries(grpcTargets(args.serviceDomain).map((t) => [t.name, t.value])),
          },
          secrets: { REDIS_URL: args.redisUrlSecret, SERVICE_SECRET: args.serviceSecret },
          healthCheck: ["CMD", ...edgeProcess.healthCheck],
        },
        loadBalancer: { targetGroupArn: targets.arn, listener },
        requestScaling: {
          resourceLabel: pulumi.interpolate`${loadBalancer.arnSuffix}/${targets.arnSuffix}`,
          requestsPerTarget: args.requestsPerTarget,
        },
      },
      child,
    );

    this.registerOutputs({ url: this.url });
  }

  /** The public name, an alias A record (the load balancer is IPv4 only, so no AAAA); `url` waits for it. */
  private aliasRecord(name: string, loadBalancer: aws.lb.LoadBalancer, domain: { name: string; hostedZoneId: string }, scheme: string): pulumi.Output<string> {
    if (scheme !== "https") throw new Error(`${domain.name} is served only over HTTPS: it needs a certificate`);
    const record = new aws.route53.Record(
      `${name}-alias`,
      {
        zoneId: domain.hostedZoneId,
        name: domain.name,
        type: "A",
        aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: true }],
      },
      { parent: this },
    );
    return record.name.apply((recordName) => `https://${recordName}`);
  }

  private httpsListeners(
    name: string,
    loadBalancer: aws.lb.LoadBalancer,
    certificateArn: string,
    forward: aws.types.input.lb.ListenerDefaultAction[],
  ): aws.lb.Listener {
    new aws.lb.Listener(
      `${name}-http`,
      {
        loadBalancerArn: loadBalancer.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
      },
      { parent: this },
    );
    return new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: loadBalancer.arn,
        port: 443,
        protocol: "HTTPS",
        certificateArn,
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        defaultActions: forward,
      },
      { parent: this },
    );
  }
}
